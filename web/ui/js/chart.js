// Line charts of the API's history samples (`*_details.samples`, newest first), drawn as SVG:
// a few hundred points do not need a chart library, and the UI stays one set of static files.
// Counters (message_stats) become rates between samples; lengths are drawn as they are.
import { num, rate } from "./dom.js";

const NS = "http://www.w3.org/2000/svg";
const COLORS = ["#0b62c4", "#18794e", "#c4650b", "#8e44ad", "#b3261e", "#5b6470", "#127b8a"];
const W = 600, H = 160, PAD_L = 56, PAD_R = 8, PAD_T = 8, PAD_B = 20;

function s(tag, attrs, ...kids) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const k of kids) el.append(k);
  return el;
}

// [{t (ms), v}] oldest first. kind "rate": per second between consecutive counter samples.
export function points(samples, kind) {
  const asc = (samples || []).slice().sort((a, b) => a.timestamp - b.timestamp);
  if (kind !== "rate") return asc.map((x) => ({ t: x.timestamp, v: x.sample }));
  const out = [];
  for (let i = 1; i < asc.length; i++) {
    const dt = (asc[i].timestamp - asc[i - 1].timestamp) / 1000;
    if (dt > 0) out.push({ t: asc[i].timestamp, v: Math.max(0, (asc[i].sample - asc[i - 1].sample) / dt) });
  }
  return out;
}

function niceMax(v) {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

// series: [{label, samples, kind: "rate"|"value"}]; ageSeconds: the window shown.
// Returns a <figure> whose aria-label says the newest value of each line.
export function lineChart(title, series, ageSeconds, now = Date.now()) {
  const lines = series.map((x, i) => ({ ...x, color: COLORS[i % COLORS.length], pts: points(x.samples, x.kind) }));
  const t0 = now - ageSeconds * 1000;
  const max = niceMax(Math.max(0, ...lines.flatMap((l) => l.pts.filter((p) => p.t >= t0).map((p) => p.v))));
  const x = (t) => PAD_L + ((t - t0) / (now - t0)) * (W - PAD_L - PAD_R);
  const y = (v) => PAD_T + (1 - v / max) * (H - PAD_T - PAD_B);
  const fmt = (v, kind) => (kind === "rate" ? rate(v) : num(Math.round(v)));
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", "aria-hidden": "true"});
  for (const f of [0, 0.5, 1]) {
    const yy = y(max * f);
    svg.append(s("line", { x1: PAD_L, x2: W - PAD_R, y1: yy, y2: yy, class: "grid" }));
    const v = max * f;
    if (lines[0]?.kind !== "rate" && !Number.isInteger(v)) continue;  // no "0.5 messages"
    svg.append(s("text", { x: PAD_L - 4, y: yy + 4, "text-anchor": "end", class: "axis" }, fmt(v, lines[0]?.kind)));
  }
  const label = ageSeconds >= 120 ? `${Math.round(ageSeconds / 60)} min ago` : `${ageSeconds} s ago`;
  svg.append(s("text", { x: PAD_L, y: H - 4, class: "axis" }, label));
  svg.append(s("text", { x: W - PAD_R, y: H - 4, "text-anchor": "end", class: "axis" }, "now"));
  for (const l of lines) {
    const pts = l.pts.filter((p) => p.t >= t0 - 1);
    if (!pts.length) continue;
    svg.append(s("polyline", { points: pts.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" "), stroke: l.color, class: "line" }));
  }
  const latest = (l) => (l.pts.length ? l.pts[l.pts.length - 1].v : 0);
  const legend = document.createElement("ul");
  legend.className = "legend";
  for (const l of lines) {
    const li = document.createElement("li");
    const sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.background = l.color;
    const val = document.createElement("strong");
    val.textContent = fmt(latest(l), l.kind);
    val.className = "value";
    li.dataset.series = l.label;
    li.append(sw, l.label + " ", val);
    legend.append(li);
  }
  const fig = document.createElement("figure");
  fig.className = "chartbox";
  fig.setAttribute("role", "img");
  fig.setAttribute("aria-label", `${title}: ` + lines.map((l) => `${l.label} ${fmt(latest(l), l.kind)}`).join(", "));
  const cap = document.createElement("figcaption");
  cap.textContent = title;
  fig.append(cap, svg, legend);
  return fig;
}

// The history parameters for a window: one sample every 5 s up to 10 minutes, then every 60 s.
export function historyParams(ageSeconds) {
  const incr = ageSeconds > 600 ? 60 : 5;
  return { lengths_age: ageSeconds, lengths_incr: incr, msg_rates_age: ageSeconds, msg_rates_incr: incr };
}

// The message-rate lines of a message_stats object, as RabbitMQ's UI names them.
export const RATE_SERIES = [
  ["publish", "Published"], ["deliver_get", "Delivered"], ["ack", "Acknowledged"],
  ["confirm", "Confirmed"], ["redeliver", "Redelivered"], ["return_unroutable", "Returned"],
];
export function rateSeries(stats, keys = RATE_SERIES) {
  return keys.map(([k, label]) => ({ label, kind: "rate", samples: stats?.[k + "_details"]?.samples || [] }));
}

// The queued-message lines (ready, unacked, total) of a queue's, vhost's or queue_totals' lengths.
export function lengthSeries(o) {
  return [
    { label: "Ready", kind: "value", samples: o?.messages_ready_details?.samples },
    { label: "Unacked", kind: "value", samples: o?.messages_unacknowledged_details?.samples },
    { label: "Total", kind: "value", samples: o?.messages_details?.samples },
  ];
}

// The chart window picker: `ranges` [[seconds, label]], the choice kept in the address
// (`?range=600`). onChange(age) after a new choice; .age() the current one.
export const RANGES = [[60, "Last minute"], [600, "Last ten minutes"], [3600, "Last hour"]];
export function rangePicker(ctx, id, ranges, onChange) {
  const asked = +ctx.query.get("range");
  let age = ranges.some(([a]) => a === asked) ? asked : ranges[0][0];
  const select = document.createElement("select");
  select.id = id;
  for (const [a, l] of ranges) select.add(new Option(l, a, false, a === age));
  select.addEventListener("change", () => {
    age = +select.value;
    ctx.replaceQuery(age === ranges[0][0] ? {} : { range: age });
    onChange(age);
  });
  const label = document.createElement("label");
  label.htmlFor = id;
  label.className = "inline";
  label.textContent = "Chart range";
  return { label, select, age: () => age };
}
