// Building the pages' DOM without innerHTML (every broker-supplied string is text), and the
// formats the tables share.

// h("button", { type: "button", onclick }, "Delete"): attributes, properties for on* and
// `value`/`checked`, children flattened; null/false children are skipped.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "value" || k === "checked" || k === "selected") el[k] = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "style") el.style.cssText = v;  // CSSOM: the CSP refuses style attributes
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

export function clear(el) { el.replaceChildren(); return el; }

// A link inside the UI: `#/queues/<vhost>/<name>` with each part encoded as RabbitMQ's UI does.
export function href(...parts) { return "#/" + parts.map((p) => encodeURIComponent(p)).join("/"); }
export function link(text, ...parts) { return h("a", { href: href(...parts) }, text); }

const nf = new Intl.NumberFormat("en");
export function num(n) { return n === undefined || n === null ? "" : nf.format(n); }
export function rate(r) {
  if (r === undefined || r === null) return "";
  const v = Math.abs(r) < 10 ? Math.round(r * 10) / 10 : Math.round(r);
  return nf.format(v) + "/s";
}
export function bytes(n) {
  if (n === undefined || n === null) return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(n < 10 ? 1 : 0) : String(n)) + " " + units[i];
}
export function duration(ms) {
  let s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400); s %= 86400;
  const hh = Math.floor(s / 3600); s %= 3600;
  const m = Math.floor(s / 60); s %= 60;
  if (d) return `${d}d ${hh}h`;
  if (hh) return `${hh}h ${m}m`;
  if (m) return `${m}m ${s}s`;
  return `${s}s`;
}
// RabbitMQ's idle_since: "2026-12-05T10:11:12.345+00:00" or older "2026-12-05 10:11:12".
export function since(ts) {
  if (!ts) return "";
  const t = Date.parse(String(ts).replace(" ", "T"));
  return Number.isNaN(t) ? String(ts) : duration(Date.now() - t);
}
export function yesno(b) { return b ? "yes" : "no"; }

// The owner of a Pulse name: `queue/<owner>/...` or `exchange/<owner>/...`.
export function ownerOf(name) {
  const m = /^(?:queue|exchange)\/([^/]+)\//.exec(name || "");
  return m ? m[1] : "";
}

// A definition list of label/value pairs, for an object's details.
export function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.filter((p) => p).map(([k, v]) => [h("dt", null, k), h("dd", null, v)]));
}

// An arguments / properties table: { key: value } shown as key = JSON-ish value.
export function kv(obj) {
  const keys = Object.keys(obj || {});
  if (!keys.length) return h("span", { class: "muted" }, "none");
  return h("table", { class: "kv" }, h("tbody", null, keys.map((k) =>
    h("tr", null, h("th", { scope: "row" }, k), h("td", null, show(obj[k]))))));
}
export function show(v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

// A labelled form control: the label wraps it, so its accessible name is the label's text.
export function field(label, control, note) {
  return h("label", { class: "field" }, h("span", { class: "label" }, label), control,
    note ? h("small", { class: "note" }, note) : null);
}
export function section(title, ...children) {
  return h("section", { class: "panel", "aria-label": title }, h("h2", null, title), children);
}
