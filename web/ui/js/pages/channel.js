// One channel: its connection, mode, prefetch and message counts, its consumers
// (consumer_details) and its message rates (a chart when the server keeps history).
import { api, path } from "../api.js";
import { historyParams, lineChart, rateSeries } from "../chart.js";
import { facts, h, href, kv, link, num, rate, section, since, yesno } from "../dom.js";
import { listTable } from "../table.js";
import { modeOf, prefetchOf } from "./channels.js";

const AGE = 600;
const RATES = [["publish", "Publish"], ["confirm", "Confirm"], ["deliver_get", "Deliver / get"], ["ack", "Ack"],
  ["redeliver", "Redelivered"], ["return_unroutable", "Returned"]];

export async function render(ctx) {
  const { name } = ctx.params;
  ctx.title(`Channel ${name}`);
  const ch0 = await api.get(path`/channels/${name}`, historyParams(AGE));
  if (ctx.stale()) return;

  const overview = h("div");
  const counts = h("div", { class: "cards", role: "group", "aria-label": "Messages" });
  const rates = h("div");
  const chart = h("div");
  const consumers = h("div");
  ctx.root.append(h("h1", null, "Channel ", h("span", { class: "sub" }, name)),
    counts,
    h("div", { class: "grid2" }, section("Overview", overview), section("Message rates", rates)),
    chart,
    section("Consumers", consumers));

  function showChannel(ch) {
    const conn = ch.connection_details?.name;
    overview.replaceChildren(facts([
      ["Connection", conn ? h("a", { href: href("connections", conn) }, conn) : ""],
      ["Number", num(ch.number)],
      ["User", ch.user],
      ["Virtual host", ch.vhost],
      ["Node", ch.node],
      ["State", ch.state],
      ["Mode", modeOf(ch).length ? modeOf(ch) : "normal"],
      ["Confirm", yesno(ch.confirm)],
      ["Transactional", yesno(ch.transactional)],
      ["Prefetch count", prefetchOf(ch)],
      ch.idle_since ? ["Idle for", since(ch.idle_since)] : null,
    ]));
    counts.replaceChildren(...[["Unacked", ch.messages_unacknowledged], ["Unconfirmed", ch.messages_unconfirmed],
      ["Uncommitted", ch.messages_uncommitted], ["Acks uncommitted", ch.acks_uncommitted], ["Consumers", ch.consumer_count]]
      .map(([k, v]) => h("div", { class: "card" }, h("span", { class: "k" }, k), h("span", { class: "v" }, num(v ?? 0)))));
    const s = ch.message_stats || {};
    rates.replaceChildren(facts(RATES.map(([k, l]) => [l, rate(s[k + "_details"]?.rate ?? 0)])));
    if (RATES.some(([k]) => s[k + "_details"]?.samples))
      chart.replaceChildren(h("div", { class: "panel" }, lineChart("Message rates over time", rateSeries(s, RATES), AGE)));
    else chart.replaceChildren();
    consumers.replaceChildren(listTable("Consumers on this channel", [
      { label: "Consumer tag", value: (c) => c.consumer_tag },
      { label: "Queue", value: (c) => (c.queue ? link(c.queue.name, "queues", c.queue.vhost, c.queue.name) : "") },
      { label: "Ack required", value: (c) => yesno(c.ack_required) },
      { label: "Exclusive", value: (c) => yesno(c.exclusive) },
      { label: "Prefetch", cls: "num", value: (c) => num(c.prefetch_count) },
      { label: "Active", value: (c) => (c.active === undefined ? "" : yesno(c.active)) },
      { label: "Arguments", value: (c) => kv(c.arguments) },
    ], ch.consumer_details || [], (c) => c.consumer_tag));
  }

  async function refresh() {
    const ch = await api.get(path`/channels/${name}`, historyParams(AGE));
    if (ctx.stale()) return;
    showChannel(ch);
  }

  showChannel(ch0);
  ctx.every(refresh);
}
