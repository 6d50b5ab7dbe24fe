// Typed key/value rows, as RabbitMQ's UI edits x-arguments, message headers and properties,
// and policy definitions: each value is a string, a number, a boolean or a list, so
// `x-max-length` goes out as a number. Every control is named "<Noun> <row> key|type|value",
// so people and tests find them by label.
import { field, h } from "./dom.js";

const TYPES = [["string", "String"], ["number", "Number"], ["boolean", "Boolean"], ["list", "List"]];

function typeOf(v) {
  if (typeof v === "number") return "number";
  if (typeof v === "boolean") return "boolean";
  if (Array.isArray(v)) return "list";
  return "string";
}
function textOf(v) {
  if (Array.isArray(v) || (v && typeof v === "object")) return JSON.stringify(v);
  return v === undefined || v === null ? "" : String(v);
}

// A list is JSON (`["a", 1]`) or comma-separated strings (`a, b`).
function parseList(noun, key, text) {
  if (text === "") return [];
  if (text.startsWith("[")) {
    let v;
    try { v = JSON.parse(text); } catch { v = null; }
    if (!Array.isArray(v)) throw new Error(`${noun} ${key}: give a JSON list such as ["a", 1]`);
    return v;
  }
  return text.split(",").map((x) => x.trim());
}

// kvEditor({ noun: "Argument", legend: "Arguments", types: true, keys: {name: type},
//   initial: {key: value}, rows: 1 }) -> { el, value(), clear(), addRow() }. value() returns
// the object or throws an Error naming the row at fault; `keys` are offered while typing and
// set their row's type.
export function kvEditor({ noun, legend, types = true, keys = {}, initial = null, rows = 1 }) {
  const lower = noun.toLowerCase();
  const listId = "kv" + Math.random().toString(36).slice(2, 8);
  const body = h("div", { class: "argrows" });
  let n = 0;
  function addRow(key = "", value = undefined) {
    const i = ++n;
    const k = h("input", { name: "key", autocomplete: "off", value: key, list: listId });
    const v = h("input", { name: "value", autocomplete: "off", value: textOf(value) });
    const t = types ? h("select", { name: "type" }, TYPES.map(([tv, tl]) => h("option", { value: tv }, tl))) : null;
    if (t) {
      t.value = value === undefined ? keys[key] || "string" : typeOf(value);
      k.addEventListener("change", () => { if (keys[k.value.trim()]) t.value = keys[k.value.trim()]; });
    }
    const row = h("div", { class: "argrow", role: "group", "aria-label": `${noun} ${i}` },
      field(`${noun} ${i} key`, k), t ? field(`${noun} ${i} type`, t) : null, field(`${noun} ${i} value`, v),
      h("button", { type: "button", class: "secondary", onclick: () => row.remove() }, `Remove ${lower} ${i}`));
    row.read = () => ({ key: k.value.trim(), text: v.value, type: t ? t.value : "string" });
    body.append(row);
    return row;
  }
  function reset() {
    body.replaceChildren();
    n = 0;
    const entries = Object.entries(initial || {});
    if (entries.length) for (const [k, v] of entries) addRow(k, v);
    else for (let i = 0; i < rows; i++) addRow();
  }
  reset();
  const el = h("fieldset", { class: "args" }, h("legend", null, legend),
    h("datalist", { id: listId }, Object.keys(keys).map((k) => h("option", { value: k }))), body,
    h("button", { type: "button", class: "secondary", onclick: () => addRow().querySelector("input").focus() }, `Add ${lower}`));

  function value() {
    const out = {};
    for (const row of body.children) {
      const { key, text: raw, type } = row.read();
      const text = raw.trim();
      if (!key) {
        if (text) throw new Error(`${noun} value "${text}" has no key`);
        continue;
      }
      if (type === "number") {
        if (text === "" || !Number.isFinite(Number(text))) throw new Error(`${noun} ${key}: "${text}" is not a number`);
        out[key] = Number(text);
      } else if (type === "boolean") {
        if (!["true", "false"].includes(text.toLowerCase())) throw new Error(`${noun} ${key}: give true or false`);
        out[key] = text.toLowerCase() === "true";
      } else if (type === "list") {
        out[key] = parseList(noun, key, text);
      } else out[key] = raw;
    }
    return out;
  }
  return { el, value, clear: reset, addRow };
}
