// Overview: message rates and queued messages over the last minutes (history from the
// server's samples), object totals, each node's memory and disk against its watermarks,
// alarms, listeners, version and uptime.
import { api } from "../api.js";
import { bytes, duration, h, num, section } from "../dom.js";
import { historyParams, lengthSeries, lineChart, RANGES, rangePicker, rateSeries } from "../chart.js";
import { listTable } from "../table.js";


function meter(label, used, limit, alarm, { inverse = false } = {}) {
  // Memory: used against the high watermark; disk: free space against the free-space limit.
  const frac = limit ? (inverse ? limit / Math.max(used, 1) : used / limit) : 0;
  return h("div", { class: "meter" },
    h("div", null, h("strong", null, label), " ",
      inverse ? `${bytes(used)} free (limit ${bytes(limit)})` : `${bytes(used)} of ${bytes(limit)} high watermark`,
      alarm ? h("span", { class: "badge alarm" }, " alarm") : null),
    h("div", { class: "bar" + (alarm || frac > 0.9 ? " high" : ""), role: "meter", "aria-label": label,
      "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(Math.min(1, frac) * 100) },
    h("span", { style: `width:${Math.round(Math.min(1, frac) * 100)}%` })));
}

export async function render(ctx) {
  ctx.title("Overview");
  // The node's totals keep an hour of samples.
  const range = rangePicker(ctx, "chart-range", RANGES, () => refresh());
  const head = h("h1", null, "Overview");
  const charts = h("div", { class: "grid2" });
  const totals = h("div", { class: "cards", "aria-label": "Totals", role: "group" });
  const nodes = h("div");
  const listeners = h("div");
  ctx.root.append(head,
    h("div", { class: "actions" }, range.label, range.select),
    charts, totals,
    section("Nodes", nodes), h("div", { class: "panel" }, listeners));

  async function refresh() {
    const age = range.age();
    const [ov, nodeList] = await Promise.all([
      api.get("/overview", historyParams(age)),
      api.get("/nodes").catch(() => []),
    ]);
    if (ctx.stale()) return;
    head.replaceChildren("Overview", h("span", { class: "sub" },
      `${ov.product_name || "Pulse"} ${ov.product_version || ov.rabbitmq_version || ""} on ${ov.node || ""}`));
    const q = ov.queue_totals || {};
    charts.replaceChildren(
      h("div", { class: "panel" }, lineChart("Queued messages", lengthSeries(q), age)),
      h("div", { class: "panel" }, lineChart("Message rates", rateSeries(ov.message_stats), age)));
    const t = ov.object_totals || {};
    totals.replaceChildren(...[["Connections", t.connections], ["Channels", t.channels], ["Exchanges", t.exchanges],
      ["Queues", t.queues], ["Consumers", t.consumers], ["Messages", q.messages]].map(([k, v]) =>
      h("div", { class: "card", dataset: { total: k.toLowerCase() } }, h("span", { class: "k" }, k), h("span", { class: "v" }, num(v ?? 0)))));
    nodes.replaceChildren(...(nodeList || []).map((n) => h("div", { class: "node" },
      h("h3", null, n.name, " ", n.running === false ? h("span", { class: "badge alarm" }, "down") : null),
      meter("Memory", n.mem_used, n.mem_limit, n.mem_alarm),
      meter("Disk", n.disk_free, n.disk_free_limit, n.disk_free_alarm, { inverse: true }),
      h("p", null, "Uptime ", h("strong", null, duration(n.uptime || 0)),
        n.mem_alarm || n.disk_free_alarm ? h("span", { class: "badge alarm", role: "status" },
          [n.mem_alarm && "memory alarm", n.disk_free_alarm && "disk alarm"].filter(Boolean).join(", ")) : " · no alarms"))));
    listeners.replaceChildren(listTable("Listeners", [
      { label: "Protocol", value: (l) => l.protocol },
      { label: "Address", value: (l) => l.ip_address },
      { label: "Port", value: (l) => l.port, cls: "num" },
      { label: "Node", value: (l) => l.node },
    ], ov.listeners));
  }
  await refresh();
  ctx.every(refresh);
}
