// One queue: its facts and arguments, live length and rate charts, consumers, bindings (add
// and remove), Get messages, Publish (through the default exchange), Purge and Delete. Delete
// can first tell a Pulse queue's owner why (pulse-guardian's notices).
import { api, path } from "../api.js";
import { act, ask, toast } from "../dialog.js";
import { bytes, facts, field, h, href, kv, num, ownerOf, section, show, yesno } from "../dom.js";
import { historyParams, lengthSeries, lineChart, RANGES, rangePicker, rateSeries } from "../chart.js";
import { listTable } from "../table.js";
import { features, stateOf } from "./queues.js";

const QUEUE_RATES = [["publish", "Published"], ["deliver_get", "Delivered"], ["ack", "Acknowledged"], ["redeliver", "Redelivered"]];

// RabbitMQ reports "" while the queue process hibernates.
function pct(x) { return typeof x === "number" ? Math.round(x * 100) + "%" : ""; }

function exchangeLink(vhost, name) {
  return name === "" ? h("span", null, "(default exchange)") : h("a", { href: href("exchanges", vhost, name) }, name);
}

function bindingsPanel(ctx, vhost, queue) {
  const list = h("div", { class: "quiet-caption" });
  const exchange = h("input", { name: "exchange", required: true, autocomplete: "off", list: "bind-exchanges" });
  const exchanges = h("datalist", { id: "bind-exchanges" });
  const key = h("input", { name: "routing_key", autocomplete: "off" });
  const form = h("form", { class: "inline", "aria-label": "Add a binding" },
    field("From exchange", exchange), exchanges, field("Routing key", key), h("button", { type: "submit" }, "Bind"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const ok = await act(() => api.post(path`/bindings/${vhost}/e/${exchange.value}/q/${queue}`,
      { routing_key: key.value, arguments: {} }), `Bound to ${exchange.value}`);
    if (ok) { key.value = ""; await refresh(); }
  });

  async function unbind(b) {
    const yes = await ask({ title: "Remove binding", danger: true, confirm: "Unbind",
      body: h("p", null, `Remove the binding from ${b.source} with routing key "${b.routing_key}"?`) });
    if (!yes) return;
    if (await act(() => api.del(path`/bindings/${vhost}/e/${b.source}/q/${queue}/${b.properties_key}`), "Binding removed"))
      await refresh();
  }

  async function refresh() {
    const [bs, xs] = await Promise.all([api.get(path`/queues/${vhost}/${queue}/bindings`),
      exchanges.children.length ? null : api.get(path`/exchanges/${vhost}`, { columns: "name" }).catch(() => [])]);
    if (ctx.stale()) return;
    if (xs) exchanges.replaceChildren(...xs.filter((x) => x.name).map((x) => h("option", { value: x.name })));
    list.replaceChildren(listTable("Bindings", [
      { label: "From", value: (b) => exchangeLink(vhost, b.source) },
      { label: "Routing key", value: (b) => b.routing_key },
      { label: "Arguments", value: (b) => kv(b.arguments) },
      { label: "", value: (b) => b.source === "" ? h("span", { class: "muted" }, "implicit")
        : h("button", { type: "button", class: "secondary", "aria-label": `Unbind from ${b.source} (${b.routing_key})`, onclick: () => unbind(b) }, "Unbind") },
    ], bs, (b) => b.source + "/" + b.properties_key));
  }
  return { el: section("Bindings", list, form), refresh };
}

function messageView(m, i) {
  const props = m.properties || {};
  return h("article", { class: "message", "aria-label": `Message ${i + 1}` },
    h("h3", null, `Message ${i + 1}`),
    facts([
      ["Exchange", m.exchange === "" ? "(default exchange)" : m.exchange],
      ["Routing key", m.routing_key],
      ["Redelivered", yesno(m.redelivered)],
      ["Properties", kv(props)],
      ["Payload", `${num(m.payload_bytes)} bytes, encoding ${m.payload_encoding}`],
      ["Left in queue", num(m.message_count)],
    ]),
    h("pre", { class: "payload", "aria-label": `Payload of message ${i + 1}` }, m.payload));
}

function getPanel(vhost, queue, after) {
  const mode = h("select", { name: "ackmode" },
    h("option", { value: "ack_requeue_true" }, "Requeue (nack, requeue true)"),
    h("option", { value: "ack_requeue_false" }, "Remove (automatic ack)"));
  const count = h("input", { name: "count", type: "number", min: 1, max: 1000, value: "1" });
  const out = h("div", { class: "messages", "aria-live": "polite" });
  const form = h("form", { class: "inline", "aria-label": "Get messages" },
    field("Ack mode", mode), field("Messages", count), h("button", { type: "submit" }, "Get messages"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const n = parseInt(count.value, 10);
    if (!(n >= 1)) { toast("Give a number of messages, 1 or more", "error"); return; }
    const r = await act(() => api.post(path`/queues/${vhost}/${queue}/get`,
      { count: n, ackmode: mode.value, encoding: "auto", truncate: 50000 }));
    if (!r) return;
    out.replaceChildren(...(r.length ? r.map(messageView) : [h("p", { class: "muted", role: "status" }, "Queue is empty")]));
    after();
  });
  return section("Get messages", h("p", { class: "note" },
    "Getting a message with requeue puts it back at the head of the queue, marked redelivered."), form, out);
}

function publishPanel(vhost, queue, after) {
  const mode = h("select", { name: "delivery_mode" }, h("option", { value: "1" }, "Non-persistent"), h("option", { value: "2" }, "Persistent"));
  const ctype = h("input", { name: "content_type", autocomplete: "off", placeholder: "text/plain" });
  const payload = h("textarea", { name: "payload" });
  const form = h("form", { "aria-label": "Publish message" },
    h("div", { class: "inline" }, field("Delivery mode", mode), field("Content type", ctype)),
    field("Payload", payload),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Publish message")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const properties = { delivery_mode: +mode.value };
    if (ctype.value.trim()) properties.content_type = ctype.value.trim();
    const r = await act(() => api.post(path`/exchanges/${vhost}/amq.default/publish`,
      { routing_key: queue, payload: payload.value, payload_encoding: "string", properties }));
    if (!r) return;
    if (r.routed) toast("Message published");
    else toast("Message published but not routed", "error");
    after();
  });
  return section("Publish message", h("p", { class: "note" }, "Published through the default exchange with the queue's name as routing key."), form);
}

// The delete dialog: names the queue and its owner; for a Pulse owner it can send a notice
// first, and a refused notice stops the delete.
async function deleteQueue(ctx, vhost, queue) {
  const owner = ownerOf(queue);
  const canNotify = !!owner && !!ctx.pulse;
  const notify = h("input", { type: "checkbox", name: "notify" });
  const message = h("textarea", { name: "message" }, `Your queue ${queue} is being deleted by an administrator.`);
  const fields = canNotify ? [h("label", { class: "check" }, notify, "Notify the owner first"), field("Message to the owner", message)] : [];
  const form = await ask({
    title: "Delete queue", danger: true, confirm: "Delete queue", fields,
    body: [h("p", null, "Delete queue ", h("strong", null, queue), " in virtual host ", h("strong", null, vhost), "?"),
      h("p", null, owner ? ["Owner: ", h("strong", null, owner)] : "This queue has no Pulse owner."),
      h("p", { class: "note" }, "Its messages are lost.")],
  });
  if (!form) return;
  if (canNotify && notify.checked) {
    const sent = await act(() => api.post("/pulse/guardian/notices", { vhost, queue, message: message.value }));
    if (!sent) return;  // the error toast says why; the queue stays
    toast(`Notice sent to ${owner}`);
  }
  if (await act(() => api.del(path`/queues/${vhost}/${queue}`), `Queue ${queue} deleted`)) ctx.go("#/queues");
}

export async function render(ctx) {
  const { vhost, name } = ctx.params;
  ctx.title(`Queue ${name}`);
  // A queue keeps ten minutes of samples (RabbitMQ's default retention).
  const range = rangePicker(ctx, "queue-range", RANGES.slice(0, 2), () => refresh());
  const first = await api.get(path`/queues/${vhost}/${name}`, historyParams(range.age()));
  if (ctx.stale()) return;
  const info = h("div");
  const args = h("div");
  const charts = h("div", { class: "grid2" });
  const consumers = h("div", { class: "quiet-caption" });
  const bindings = bindingsPanel(ctx, vhost, name);
  const purge = h("button", { type: "button", class: "secondary" }, "Purge messages");
  const del = h("button", { type: "button", class: "danger" }, "Delete queue");
  purge.addEventListener("click", async () => {
    const yes = await ask({ title: "Purge queue", danger: true, confirm: "Purge",
      body: h("p", null, "Remove every ready message of ", h("strong", null, name), "?") });
    if (yes && await act(() => api.del(path`/queues/${vhost}/${name}/contents`), `Queue ${name} purged`)) refresh();
  });
  del.addEventListener("click", () => deleteQueue(ctx, vhost, name));
  ctx.root.append(
    h("h1", null, "Queue ", h("span", { class: "qname" }, name), h("span", { class: "sub" }, `in ${vhost}`)),
    h("div", { class: "actions" }, range.label, range.select,
      h("span", { class: "grow" }), purge, del),
    charts,
    h("div", { class: "grid2" }, section("Details", info), section("Arguments", args)),
    section("Consumers", consumers), bindings.el,
    h("div", { class: "grid2" }, getPanel(vhost, name, () => refresh()), publishPanel(vhost, name, () => refresh())));

  function show_(q) {
    const owner = ownerOf(q.name);
    info.replaceChildren(facts([
      ["Virtual host", h("a", { href: href("queues", q.vhost) }, q.vhost)],
      ["Owner", owner || h("span", { class: "muted" }, "none")],
      ["Type", q.type || "classic"],
      ["Features", features(q)],
      ["Policy", q.policy ? h("a", { href: href("policies", q.vhost, q.policy) }, q.policy) : h("span", { class: "muted" }, "none")],
      q.operator_policy ? ["Operator policy", q.operator_policy] : null,
      ["Effective policy definition", kv(q.effective_policy_definition)],
      ["State", stateOf(q)],
      ["Messages", `${num(q.messages)} (${num(q.messages_ready)} ready, ${num(q.messages_unacknowledged)} unacked)`],
      q.message_bytes !== undefined ? ["Message bytes", bytes(q.message_bytes)] : null,
      ["Consumers", num(q.consumers)],
      ["Consumer utilisation", pct(q.consumer_utilisation ?? q.consumer_capacity)],
      q.memory !== undefined ? ["Memory", bytes(q.memory)] : null,
      q.node ? ["Node", q.node] : null,
    ]));
    args.replaceChildren(kv(q.arguments));
    charts.replaceChildren(
      h("div", { class: "panel" }, lineChart("Queued messages", lengthSeries(q), range.age())),
      h("div", { class: "panel" }, lineChart("Message rates", rateSeries(q.message_stats, QUEUE_RATES), range.age())));
    consumers.replaceChildren(listTable("Consumers", [
      { label: "Channel", value: (c) => c.channel_details?.name ? h("a", { href: href("channels", c.channel_details.name) }, c.channel_details.name) : "" },
      { label: "Consumer tag", value: (c) => c.consumer_tag },
      { label: "Ack required", value: (c) => yesno(c.ack_required) },
      { label: "Exclusive", value: (c) => yesno(c.exclusive) },
      { label: "Prefetch", cls: "num", value: (c) => num(c.prefetch_count) },
      { label: "Active", value: (c) => c.activity_status || yesno(c.active) },
      { label: "Arguments", value: (c) => show(c.arguments && Object.keys(c.arguments).length ? c.arguments : "") },
    ], q.consumer_details || [], (c) => c.consumer_tag));
  }

  async function refresh() {
    const q = await api.get(path`/queues/${vhost}/${name}`, historyParams(range.age()));
    if (ctx.stale()) return;
    show_(q);
    await bindings.refresh();
  }
  show_(first);
  await bindings.refresh();
  ctx.every(refresh);
}
