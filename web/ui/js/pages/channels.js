// Channels: every channel the user may see, paged, sorted and filtered on the server, with its
// mode (confirm / transactional), prefetch, unacked and unconfirmed counts and message rates.
import { h, href, num, rate } from "../dom.js";
import { pagedTable } from "../table.js";

// "C" confirm, "T" transactional: RabbitMQ's UI letters, spelled out for screen readers.
export function modeOf(ch) {
  const m = [];
  if (ch.confirm) m.push(["C", "confirm"]);
  if (ch.transactional) m.push(["T", "transactional"]);
  return m.map(([k, t]) => h("abbr", { class: "badge", title: t, "aria-label": t }, k));
}
export function prefetchOf(ch) {
  const parts = [];
  if (ch.prefetch_count) parts.push(num(ch.prefetch_count));
  if (ch.global_prefetch_count) parts.push(num(ch.global_prefetch_count) + " (global)");
  return parts.length ? parts.join(", ") : ch.prefetch_count === 0 ? "none" : "";
}
const r = (ch, k) => rate(ch.message_stats?.[k + "_details"]?.rate);

// The columns both the channels page and a connection's page show.
export function channelColumns({ withUser = true, sortable = false } = {}) {
  const s = (k) => (sortable ? k : undefined);
  return [
    { label: "Channel", sort: s("name"), numeric: false, value: (ch) => h("a", { href: href("channels", ch.name) }, ch.name) },
    withUser ? { label: "User", sort: s("user"), numeric: false, value: (ch) => ch.user } : null,
    withUser ? { label: "Virtual host", sort: s("vhost"), numeric: false, value: (ch) => ch.vhost } : null,
    { label: "Mode", value: modeOf },
    { label: "State", sort: s("state"), numeric: false, value: (ch) => ch.state },
    { label: "Prefetch", sort: s("prefetch_count"), cls: "num", value: prefetchOf },
    { label: "Unacked", sort: s("messages_unacknowledged"), cls: "num", value: (ch) => num(ch.messages_unacknowledged) },
    { label: "Unconfirmed", sort: s("messages_unconfirmed"), cls: "num", value: (ch) => num(ch.messages_unconfirmed) },
    { label: "Consumers", sort: s("consumer_count"), cls: "num", value: (ch) => num(ch.consumer_count) },
    { label: "Publish", sort: s("message_stats.publish_details.rate"), cls: "num", value: (ch) => r(ch, "publish") },
    { label: "Confirm", sort: s("message_stats.confirm_details.rate"), cls: "num", value: (ch) => r(ch, "confirm") },
    { label: "Deliver / get", sort: s("message_stats.deliver_get_details.rate"), cls: "num", value: (ch) => r(ch, "deliver_get") },
    { label: "Ack", sort: s("message_stats.ack_details.rate"), cls: "num", value: (ch) => r(ch, "ack") },
  ].filter(Boolean);
}

export async function render(ctx) {
  ctx.title("Channels");
  const table = pagedTable({
    caption: "Channels",
    endpoint: "/channels",
    query: ctx.query, onState: (st) => ctx.replaceQuery(st), rowKey: (ch) => ch.name,
    columns: channelColumns({ sortable: true }),
  });
  ctx.root.append(h("h1", null, "Channels"), h("div", { class: "panel" }, table.el));
  await table.refresh();
  ctx.every(table.refresh);
}
