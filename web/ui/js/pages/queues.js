// Queues: every queue (or one vhost's) paged, filtered and sorted by the server, with the
// columns RabbitMQ's list has plus each Pulse queue's owner; a form to declare a queue.
import { api, path } from "../api.js";
import { toast } from "../dialog.js";
import { field, h, href, num, ownerOf, rate, section, since } from "../dom.js";
import { kvEditor } from "../kv_editor.js";
import { pagedTable } from "../table.js";

// The queue arguments RabbitMQ's UI knows: the short tag of the features column, and the
// value type the add-queue form gives them.
const KNOWN_ARGS = {
  "x-message-ttl": ["TTL", "number"], "x-expires": ["Exp", "number"], "x-max-length": ["Lim", "number"],
  "x-max-length-bytes": ["Lim B", "number"], "x-overflow": ["Ovfl", "string"],
  "x-dead-letter-exchange": ["DLX", "string"], "x-dead-letter-routing-key": ["DLK", "string"],
  "x-max-priority": ["Pri", "number"], "x-single-active-consumer": ["SAC", "boolean"],
  "x-queue-mode": ["Mode", "string"], "x-delivery-limit": ["DlvLim", "number"],
  "x-queue-master-locator": ["ML", "string"], "x-max-in-memory-length": ["IM Lim", "number"],
  "x-max-in-memory-bytes": ["IM Lim B", "number"], "x-quorum-initial-group-size": ["Grp", "number"],
};
const ARG_TYPES = Object.fromEntries(Object.entries(KNOWN_ARGS).map(([k, [, type]]) => [k, type]));

// Badges for a queue's flags, arguments and policy (titles say what each short tag means).
export function features(q) {
  const tags = [];
  if (q.durable) tags.push(["D", "durable"]);
  if (q.auto_delete) tags.push(["AD", "auto-delete"]);
  if (q.exclusive) tags.push(["Excl", "exclusive"]);
  for (const [k, v] of Object.entries(q.arguments || {})) {
    if (k === "x-queue-type") continue;  // the type column says it
    tags.push([KNOWN_ARGS[k]?.[0] || "Args", `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`]);
  }
  const out = tags.map(([t, title]) => h("abbr", { class: "badge", title }, t));
  if (q.policy) out.push(h("span", { class: "badge policy", title: "policy" }, q.policy));
  return h("span", { class: "features" }, out);
}

// The state as the broker reports it: pulsed's idle_since is the last declare, consume or get
// (x-expires' notion), not RabbitMQ's "hibernated", so it does not make a queue "idle" here.
export function stateOf(q) {
  return q.state || "";
}

const stat = (q, key) => q.message_stats?.[key + "_details"]?.rate;

const COLUMNS = [
  { label: "Virtual host", sort: "vhost", numeric: false, value: (q) => q.vhost, fields: ["vhost"] },
  { label: "Name", sort: "name", numeric: false, value: (q) => h("a", { href: href("queues", q.vhost, q.name) }, q.name), fields: ["name"] },
  { label: "Owner", value: (q) => ownerOf(q.name) },
  { label: "Type", sort: "type", numeric: false, value: (q) => q.type || "classic", fields: ["type"] },
  { label: "Features", value: features, fields: ["durable", "auto_delete", "exclusive", "arguments", "policy"] },
  { label: "State", sort: "state", numeric: false, value: stateOf, fields: ["state", "idle_since"] },
  { label: "Ready", sort: "messages_ready", cls: "num", value: (q) => num(q.messages_ready), fields: ["messages_ready"] },
  { label: "Unacked", sort: "messages_unacknowledged", cls: "num", value: (q) => num(q.messages_unacknowledged), fields: ["messages_unacknowledged"] },
  { label: "Total", sort: "messages", cls: "num", value: (q) => num(q.messages), fields: ["messages"] },
  { label: "Incoming", sort: "message_stats.publish_details.rate", cls: "num", value: (q) => rate(stat(q, "publish")), fields: ["message_stats.publish_details.rate"] },
  { label: "Deliver / get", sort: "message_stats.deliver_get_details.rate", cls: "num", value: (q) => rate(stat(q, "deliver_get")), fields: ["message_stats.deliver_get_details.rate"] },
  { label: "Ack", sort: "message_stats.ack_details.rate", cls: "num", value: (q) => rate(stat(q, "ack")), fields: ["message_stats.ack_details.rate"] },
  { label: "Consumers", sort: "consumers", cls: "num", value: (q) => num(q.consumers), fields: ["consumers"] },
  // idle_since ascending puts the longest idle first.
  { label: "Idle for", sort: "idle_since", numeric: false, cls: "num", value: (q) => since(q.idle_since), fields: ["idle_since"] },
];

function addQueueForm(ctx, vhosts, onAdded) {
  const vhost = h("select", { name: "vhost" }, vhosts.map((v) =>
    h("option", { value: v, selected: v === (ctx.params.vhost ?? "/") }, v)));
  const name = h("input", { name: "name", required: true, autocomplete: "off" });
  const type = h("select", { name: "type" }, ["classic", "quorum"].map((t) => h("option", { value: t }, t)));
  const durable = h("select", { name: "durable" }, h("option", { value: "true" }, "Durable"), h("option", { value: "false" }, "Transient"));
  const autoDelete = h("select", { name: "auto_delete" }, h("option", { value: "false" }, "No"), h("option", { value: "true" }, "Yes"));
  const args = kvEditor({ noun: "Argument", legend: "Arguments", keys: ARG_TYPES });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const form = h("form", { class: "addqueue", "aria-label": "Add a queue" },
    h("div", { class: "inline" }, field("Virtual host", vhost), field("Queue name", name), field("Type", type),
      field("Durability", durable), field("Auto delete", autoDelete)),
    args.el, error, h("div", { class: "actions" }, h("button", { type: "submit" }, "Add queue")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    let argv;
    try {
      argv = args.value();
    } catch (ex) {
      error.hidden = false;
      error.textContent = ex.message;
      return;
    }
    if (type.value !== "classic") argv["x-queue-type"] = type.value;
    const body = { durable: durable.value === "true", auto_delete: autoDelete.value === "true", arguments: argv };
    const q = name.value;
    try {
      await api.put(path`/queues/${vhost.value}/${q}`, body);
    } catch (ex) {
      error.hidden = false;
      error.textContent = "Could not add the queue: " + ex.message;
      return;
    }
    toast(`Queue ${q} added`);
    name.value = "";
    args.clear();
    onAdded();
  });
  return form;
}

export async function render(ctx) {
  const vhost = ctx.params.vhost;
  ctx.title(vhost === undefined ? "Queues" : `Queues in ${vhost}`);
  const vhosts = (await api.get("/vhosts", { columns: "name" }).catch(() => [])).map((v) => v.name);
  if (ctx.stale()) return;
  const pick = h("select", { id: "queues-vhost" }, h("option", { value: "" }, "All virtual hosts"),
    vhosts.map((v) => h("option", { value: v, selected: v === vhost }, v)));
  pick.addEventListener("change", () => ctx.go(pick.value === "" ? "#/queues" : href("queues", pick.value)));
  const columns = COLUMNS.filter((c) => vhost === undefined || c.sort !== "vhost");
  const table = pagedTable({
    caption: vhost === undefined ? "Queues" : `Queues in ${vhost}`,
    endpoint: vhost === undefined ? "/queues" : path`/queues/${vhost}`,
    columns, query: ctx.query, onState: (s) => ctx.replaceQuery(s),
    rowKey: (q) => q.vhost + "/" + q.name,
    // Only what the columns show: a page of big queues stays small on both brokers.
    extraParams: { columns: columns.flatMap((c) => c.fields || []).join(",") },
  });
  ctx.root.append(
    h("h1", null, "Queues", vhost !== undefined ? h("span", { class: "sub" }, `in ${vhost}`) : null),
    h("div", { class: "actions" }, h("label", { for: "queues-vhost", class: "inline" }, "Virtual host"), pick),
    h("div", { class: "panel" }, table.el),
    section("Add a queue", addQueueForm(ctx, vhosts.length ? vhosts : ["/"], () => table.refresh())));
  await table.refresh();
  ctx.every(table.refresh);
}
