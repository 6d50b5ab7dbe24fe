// One exchange: its facts and arguments, message rates, the bindings where it is the source and
// the destination (add, remove), publishing a test message (routed or not, as the API says)
// and deleting it. The default exchange is addressed as "amq.default", as in RabbitMQ's UI.
import { api, path } from "../api.js";
import { historyParams, lineChart } from "../chart.js";
import { act, ask, toast } from "../dialog.js";
import { facts, field, h, href, kv, link, ownerOf, rate, section, yesno } from "../dom.js";
import { listTable } from "../table.js";
import { kvEditor } from "../kv_editor.js";
import { exchangeHref, exchangeLabel, features } from "./exchanges.js";

const AGE = 600;
// The message properties the publish form offers (all strings but the numbers).
const PROPERTY_KEYS = {
  content_type: "string", content_encoding: "string", priority: "number", correlation_id: "string",
  reply_to: "string", expiration: "string", message_id: "string", timestamp: "number", type: "string",
  user_id: "string", app_id: "string",
};

export async function render(ctx) {
  const { vhost } = ctx.params;
  const isDefault = ctx.params.name === "amq.default" || ctx.params.name === "";
  const name = isDefault ? "" : ctx.params.name;
  const apiName = isDefault ? "amq.default" : name;
  const label = exchangeLabel(name);
  ctx.title(`Exchange ${label}`);

  const x0 = await api.get(path`/exchanges/${vhost}/${apiName}`, historyParams(AGE));
  if (ctx.stale()) return;

  const head = h("h1", null, "Exchange ", label, " ", h("span", { class: "sub" }, "in virtual host " + vhost));
  const overview = h("div");
  const argsBox = h("div");
  const chart = h("div");
  const srcBox = h("div");
  const dstBox = h("div");
  // Element.append writes null as text: the optional parts go through filter(Boolean).
  ctx.root.append(...[head,
    h("div", { class: "grid2" }, section("Overview", overview), section("Arguments", argsBox)),
    chart,
    isDefault
      ? section("Bindings", h("p", null, "The default exchange is implicitly bound to every queue, with a routing key equal to the queue name. " +
          "It is not possible to bind or unbind from it."))
      : h("div", null,
          section("Bindings from this exchange", srcBox, bindForm(ctx, vhost, name, "source", refresh)),
          section("Bindings to this exchange", dstBox, bindForm(ctx, vhost, name, "destination", refresh))),
    publishForm(vhost, apiName, label),
    isDefault || name.startsWith("amq.") ? null : deletePanel(ctx, vhost, name)].filter(Boolean));

  function show(x) {
    overview.replaceChildren(facts([
      ["Type", x.type],
      ["Features", features(x).length ? features(x) : h("span", { class: "muted" }, "none")],
      ["Durable", yesno(x.durable)],
      ["Auto-delete", yesno(x.auto_delete)],
      ["Internal", yesno(x.internal)],
      ownerOf(x.name) ? ["Owner", ownerOf(x.name)] : null,
      x.policy ? ["Policy", x.policy] : null,
      ["Message rate in", rate(x.message_stats?.publish_in_details?.rate ?? 0)],
      ["Message rate out", rate(x.message_stats?.publish_out_details?.rate ?? 0)],
    ]));
    argsBox.replaceChildren(kv(x.arguments));
    const s = x.message_stats || {};
    // A chart only when the server keeps history for this exchange (RabbitMQ answers
    // without samples when its rate mode is basic and nothing has been published).
    if (s.publish_in_details?.samples || s.publish_out_details?.samples)
      chart.replaceChildren(h("div", { class: "panel" }, lineChart("Message rates", [
        { label: "In", kind: "rate", samples: s.publish_in_details?.samples || [] },
        { label: "Out", kind: "rate", samples: s.publish_out_details?.samples || [] },
      ], AGE)));
    else chart.replaceChildren();
  }

  function unbind(b) {
    return h("button", { type: "button", class: "secondary", "aria-label": `Unbind ${b.source || "(AMQP default)"} → ${b.destination} (${b.routing_key})`,
      onclick: async () => {
        const kind = b.destination_type === "exchange" ? "e" : "q";
        const ok = await act(() => api.del(path`/bindings/${vhost}/e/${b.source}/${kind}/${b.destination}/${b.properties_key}`), "Binding removed.");
        if (ok !== null) refresh();
      } }, "Unbind");
  }

  async function refresh() {
    const [x, src, dst] = await Promise.all([
      api.get(path`/exchanges/${vhost}/${apiName}`, historyParams(AGE)),
      isDefault ? [] : api.get(path`/exchanges/${vhost}/${name}/bindings/source`),
      isDefault ? [] : api.get(path`/exchanges/${vhost}/${name}/bindings/destination`),
    ]);
    if (ctx.stale()) return;
    show(x);
    if (isDefault) return;
    srcBox.replaceChildren(listTable("Bindings where this exchange is the source", [
      { label: "To", value: (b) => b.destination_type === "exchange"
        ? h("a", { href: exchangeHref(vhost, b.destination) }, b.destination) : link(b.destination, "queues", vhost, b.destination) },
      { label: "Type", value: (b) => b.destination_type },
      { label: "Routing key", value: (b) => b.routing_key },
      { label: "Arguments", value: (b) => kv(b.arguments) },
      { label: "Action", value: unbind },
    ], src, (b) => b.destination_type + "/" + b.destination + "/" + b.properties_key));
    dstBox.replaceChildren(listTable("Bindings where this exchange is the destination", [
      { label: "From", value: (b) => h("a", { href: exchangeHref(vhost, b.source) }, exchangeLabel(b.source)) },
      { label: "Routing key", value: (b) => b.routing_key },
      { label: "Arguments", value: (b) => kv(b.arguments) },
      { label: "Action", value: unbind },
    ], dst, (b) => b.source + "/" + b.properties_key));
  }

  show(x0);
  await refresh();
  ctx.every(refresh);
}

// "source": bind this exchange to a queue or exchange; "destination": bind another exchange to it.
function bindForm(ctx, vhost, name, role, refresh) {
  const kind = h("select", { "aria-label": "Destination type" }, h("option", { value: "q" }, "Queue"), h("option", { value: "e" }, "Exchange"));
  const other = h("input", { required: true, autocomplete: "off" });
  const key = h("input", { autocomplete: "off" });
  const args = kvEditor({ noun: "Argument", legend: "Arguments" });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const title = role === "source" ? "Add binding from this exchange" : "Add binding to this exchange";
  const form = h("form", { class: "bind", "aria-label": title },
    h("h3", null, title),
    h("div", { class: "actions" },
      role === "source" ? [field("Destination type", kind), field("Destination name", other)] : field("From exchange", other),
      field("Routing key", key)),
    // Most bindings have none (headers exchanges do): folded until asked for.
    h("details", { class: "argsbox" }, h("summary", null, "Binding arguments"), args.el), error,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Bind")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    let a;
    try { a = args.value(); } catch (ex) { error.hidden = false; error.textContent = ex.message; return; }
    const p = role === "source"
      ? path`/bindings/${vhost}/e/${name}/${kind.value}/${other.value}`
      : path`/bindings/${vhost}/e/${other.value}/e/${name}`;
    const ok = await act(() => api.post(p, { routing_key: key.value, arguments: a }), "Binding added.");
    if (ok !== null && !ctx.stale()) { other.value = ""; key.value = ""; args.clear(); refresh(); }
  });
  return form;
}

function publishForm(vhost, apiName, label) {
  const key = h("input", { autocomplete: "off" });
  const mode = h("select", { "aria-label": "Delivery mode" }, h("option", { value: "1" }, "1 - Non-persistent"), h("option", { value: "2" }, "2 - Persistent"));
  const headers = kvEditor({ noun: "Header", legend: "Headers" });
  const props = kvEditor({ noun: "Property", legend: "Properties", types: false, keys: PROPERTY_KEYS });
  const payload = h("textarea", { rows: 5 });
  const encoding = h("select", { "aria-label": "Payload encoding" }, h("option", { value: "string" }, "String"), h("option", { value: "base64" }, "Base64"));
  const result = h("p", { role: "status", class: "pubresult" });
  const form = h("form", { class: "publish", "aria-label": "Publish message" },
    h("p", { class: "note" }, `Publishes to exchange ${label} in virtual host ${vhost} as you, with the routing key and properties below.`),
    h("div", { class: "actions" }, field("Routing key", key), field("Delivery mode", mode)),
    h("div", { class: "grid2" }, headers.el, props.el),
    field("Payload", payload),
    h("div", { class: "actions" }, field("Payload encoding", encoding), h("button", { type: "submit" }, "Publish message")),
    result);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    result.className = "pubresult";
    result.textContent = "";
    let properties;
    try {
      properties = { ...props.value(), delivery_mode: +mode.value };
      // The one numeric property a user types (RabbitMQ wants a number there).
      if (properties.priority !== undefined && /^\d+$/.test(properties.priority)) properties.priority = +properties.priority;
      const hd = headers.value();
      if (Object.keys(hd).length) properties.headers = hd;
    } catch (ex) {
      result.className = "pubresult error";
      result.textContent = ex.message;
      return;
    }
    try {
      const r = await api.post(path`/exchanges/${vhost}/${apiName}/publish`,
        { routing_key: key.value, properties, payload: payload.value, payload_encoding: encoding.value });
      // RabbitMQ's UI words.
      result.className = "pubresult " + (r.routed ? "ok" : "warn");
      result.textContent = r.routed ? "Message published." : "Message published, but not routed.";
    } catch (ex) {
      result.className = "pubresult error";
      result.textContent = "Not published: " + ex.message;
      toast("Not published: " + ex.message, "error");
    }
  });
  return section("Publish message", form);
}

function deletePanel(ctx, vhost, name) {
  const btn = h("button", { type: "button", class: "danger" }, "Delete this exchange");
  btn.addEventListener("click", async () => {
    const owner = ownerOf(name);
    const yes = await ask({
      title: "Delete exchange",
      body: h("p", null, "Delete exchange ", h("strong", null, name), " in virtual host ", h("strong", null, vhost),
        owner ? [" (owner ", h("strong", null, owner), ")"] : null,
        "? Its bindings go with it."),
      confirm: "Delete", danger: true,
    });
    if (!yes) return;
    const ok = await act(() => api.del(path`/exchanges/${vhost}/${name}`), `Exchange "${name}" deleted.`);
    if (ok !== null) ctx.go(href("exchanges", vhost));
  });
  return section("Delete this exchange", h("div", { class: "actions" }, btn));
}
