// What the Pulse pages (pages/pulse*.js) share: the guardian's notices as a table, times as the
// API gives them made readable, and the guardian's state that may be missing (503 while it
// does not run).
import { ApiError, api } from "./api.js";
import { h, href, num } from "./dom.js";
import { listTable } from "./table.js";
import { hasTag } from "./app.js";

// "2026-12-05T11:00:00+00:00" or "...Z" -> "2026-12-05 11:00:00 UTC".
export function when(ts) {
  if (!ts) return "";
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?(Z|\+00:00)$/.exec(String(ts));
  return m ? `${m[1]} ${m[2]} UTC` : String(ts);
}

// The guardian's state, or null while it does not run (the API answers 503).
export async function guardianState() {
  try {
    return await api.get("/pulse/guardian");
  } catch (e) {
    if (e instanceof ApiError && e.status === 503) return null;
    throw e;
  }
}

// Whether the signed-in user may open the broker's queue and exchange pages (an owner made by
// Pulse has no vhost and sees none of them).
export const seesBroker = () => hasTag("administrator", "monitoring");

const EVENTS = {
  warning: ["Warning", "warn"], back_to_normal: ["Back to normal", "ok"], deleted: ["Deleted", "alarm"],
  idle_deleted: ["Deleted (idle)", "alarm"], connection_closed: ["Connection closed", "alarm"],
  operator: ["From an administrator", "info"],
};

function eventBadge(ev) {
  const [label, kind] = EVENTS[ev] || [ev, ""];
  return h("span", { class: "badge event " + kind }, label);
}

function detail(n) {
  switch (n.event) {
    case "operator":
      return h("div", null, h("span", { class: "muted" }, (n.operator || "an administrator") + " wrote: "),
        h("span", { class: "message" }, n.message || ""));
    case "connection_closed":
      return `connection ${n.connection} of ${n.user || "(none)"} from ${n.peer}, open ${num(n.age_seconds)} s (limit ${num(n.max_connection_age)} s)`;
    case "idle_deleted":
      return `no consumer for ${num(n.idle_seconds)} s (limit ${num(n.idle_queue_expiry)} s)`;
    case "back_to_normal":
      return `${num(n.warn_queue_size)} messages or fewer`;
    default:
      return `warning over ${num(n.warn_queue_size)}, deletion over ${num(n.delete_queue_size)}` +
        (n.unbounded ? " (unbounded: never deleted)" : "");
  }
}

// The notices, newest first. `linkOwners`: owner words link to the Pulse user's page.
export function noticesTable(caption, notices, { linkOwners = true } = {}) {
  const items = [...(notices || [])].reverse();
  return listTable(caption, [
    { label: "Time", value: (n) => when(n.time) },
    { label: "Event", value: (n) => eventBadge(n.event) },
    { label: "Queue or connection", value: (n) => n.event === "connection_closed" ? n.connection
      : (seesBroker() ? h("a", { href: href("queues", n.vhost, n.queue) }, n.queue) : n.queue) },
    { label: "Owner", value: (n) => !n.owner ? h("span", { class: "muted" }, "none")
      : (linkOwners ? h("a", { href: href("pulse", "users", n.owner) }, n.owner) : n.owner) },
    { label: "Messages", cls: "num", value: (n) => n.event === "connection_closed" ? "" : num(n.messages) },
    { label: "Detail", value: detail },
  ], items, (n) => String(n.id));
}
