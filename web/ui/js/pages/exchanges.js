// Exchanges: every exchange (or one vhost's), paged, sorted and filtered on the server; an
// owner column from Pulse's `exchange/<owner>/...` names; a form to add an exchange.
import { api, path } from "../api.js";
import { act } from "../dialog.js";
import { field, h, href, ownerOf, rate, section } from "../dom.js";
import { pagedTable } from "../table.js";
import { kvEditor } from "../kv_editor.js";

export const DEFAULT_TYPES = ["direct", "fanout", "headers", "topic"];

// The default exchange's name is "" in the API; RabbitMQ's UI shows and addresses it so.
export function exchangeLabel(name) { return name === "" ? "(AMQP default)" : name; }
export function exchangeHref(vhost, name) { return href("exchanges", vhost, name === "" ? "amq.default" : name); }

export function features(x) {
  const f = [];
  if (x.durable) f.push(["D", "durable"]);
  if (x.auto_delete) f.push(["AD", "auto-delete"]);
  if (x.internal) f.push(["I", "internal"]);
  if (x.arguments && Object.keys(x.arguments).length) f.push(["Args", Object.keys(x.arguments).join(", ")]);
  return f.flatMap(([k, t], i) => [i ? " " : null, h("abbr", { class: "badge", title: t, "aria-label": t }, k)]);
}

const inRate = (x) => x.message_stats?.publish_in_details?.rate;
const outRate = (x) => x.message_stats?.publish_out_details?.rate;

export async function render(ctx) {
  const vhost = ctx.params.vhost;
  ctx.title(vhost ? `Exchanges in ${vhost}` : "Exchanges");
  const vhosts = await api.get("/vhosts").catch(() => []);
  if (ctx.stale()) return;

  const pick = h("select", { id: "x-vhost-view" },
    h("option", { value: "", selected: !vhost }, "All virtual hosts"),
    (vhosts || []).map((v) => h("option", { value: v.name, selected: v.name === vhost }, v.name)));
  pick.addEventListener("change", () => ctx.go(pick.value ? href("exchanges", pick.value) : "#/exchanges"));

  const table = pagedTable({
    caption: vhost ? `Exchanges in virtual host ${vhost}` : "Exchanges",
    endpoint: vhost ? path`/exchanges/${vhost}` : "/exchanges",
    query: ctx.query, onState: (s) => ctx.replaceQuery(s), rowKey: (x) => x.vhost + "/" + x.name,
    columns: [
      { label: "Name", sort: "name", numeric: false,
        value: (x) => h("a", { href: exchangeHref(x.vhost, x.name) }, exchangeLabel(x.name)) },
      { label: "Virtual host", sort: "vhost", numeric: false, value: (x) => x.vhost },
      { label: "Type", sort: "type", numeric: false, value: (x) => x.type },
      { label: "Features", value: features },
      { label: "Owner", value: (x) => ownerOf(x.name) },
      { label: "Rate in", sort: "message_stats.publish_in_details.rate", cls: "num", value: (x) => rate(inRate(x)) },
      { label: "Rate out", sort: "message_stats.publish_out_details.rate", cls: "num", value: (x) => rate(outRate(x)) },
    ],
  });

  ctx.root.append(h("h1", null, "Exchanges", vhost ? [" ", h("span", { class: "sub" }, "in " + vhost)] : null),
    h("div", { class: "actions" }, h("label", { for: pick.id, class: "inline" }, "Virtual host"), pick),
    h("div", { class: "panel" }, table.el),
    addForm(ctx, vhosts || [], vhost, table));
  await table.refresh();
  ctx.every(table.refresh);
}

function addForm(ctx, vhosts, current, table) {
  const vh = h("select", { name: "vhost", "aria-label": "Virtual host" }, vhosts.map((v) => h("option", { value: v.name, selected: v.name === (current || "/") }, v.name)));
  const name = h("input", { name: "name", required: true, autocomplete: "off" });
  const type = h("select", { name: "type", "aria-label": "Type" }, DEFAULT_TYPES.map((t) => h("option", { value: t }, t)));
  const durable = h("input", { type: "checkbox", name: "durable", checked: true });
  const autoDelete = h("input", { type: "checkbox", name: "auto_delete" });
  const internal = h("input", { type: "checkbox", name: "internal" });
  const args = kvEditor({ noun: "Argument", legend: "Arguments", keys: { "alternate-exchange": "string" } });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  // RabbitMQ lists the exchange types its plugins add (x-delayed-message, ...) in /api/overview.
  api.get("/overview").then((ov) => {
    const extra = (ov.exchange_types || []).map((t) => t.name).filter((t) => t && !DEFAULT_TYPES.includes(t));
    for (const t of extra) type.append(h("option", { value: t }, t));
  }).catch(() => {});

  const form = h("form", { class: "addx", "aria-label": "Add a new exchange" },
    h("div", { class: "actions" },
      field("Virtual host", vh), field("Name", name), field("Type", type),
      h("label", { class: "inline check" }, durable, "Durable"),
      h("label", { class: "inline check" }, autoDelete, "Auto-delete"),
      h("label", { class: "inline check" }, internal, "Internal")),
    args.el, error,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Add exchange")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    let body;
    try {
      body = { type: type.value, durable: durable.checked, auto_delete: autoDelete.checked, internal: internal.checked, arguments: args.value() };
    } catch (ex) {
      error.hidden = false;
      error.textContent = ex.message;
      return;
    }
    const x = name.value;
    // RabbitMQ answers a PUT of an existing exchange with 204 (or a 406 when it differs): ask
    // first, so "Add" never silently means "already there".
    const exists = await api.get(path`/exchanges/${vh.value}/${x}`).then(() => true, () => false);
    if (exists) {
      error.hidden = false;
      error.textContent = `Exchange "${x}" already exists in virtual host "${vh.value}".`;
      return;
    }
    const ok = await act(() => api.put(path`/exchanges/${vh.value}/${x}`, body), `Exchange "${x}" added.`);
    if (ok !== null && !ctx.stale()) {
      name.value = "";
      args.clear();
      table.refresh();
    }
  });
  return section("Add a new exchange", form);
}
