// Key / value / type rows for a table of AMQP arguments (x-arguments, message headers,
// message properties), as RabbitMQ's UI edits them: each value is typed (a string, a number,
// a boolean or a list/object written as JSON), so `x-max-length` goes out as a number.
import { field, h } from "../dom.js";

const TYPES = [["string", "String"], ["number", "Number"], ["boolean", "Boolean"], ["json", "List / JSON"]];

// argsEditor("Arguments", { types: false }) -> { el, value(): object (throws Error with the
// row at fault), clear() }. types: false for plain string values (message properties).
function typed(label) { label.classList.add("type"); return label; }

export function argsEditor(title, { types = true, keyHint = "", addLabel } = {}) {
  const rows = h("div", { class: "argrows" });
  let n = 0;
  function addRow() {
    n += 1;
    const key = h("input", { type: "text", autocomplete: "off", placeholder: n === 1 ? keyHint : "" });
    const value = h("input", { type: "text", autocomplete: "off" });
    const type = types ? h("select", { "aria-label": "Value type" }, TYPES.map(([v, l]) => h("option", { value: v }, l))) : null;
    const row = h("div", { class: "argrow", role: "group", "aria-label": `${title} row ${n}` },
      field("Key", key), field("Value", value), type ? typed(field("Type", type)) : null);
    row._read = () => ({ key: key.value.trim(), value: value.value, type: type ? type.value : "string" });
    rows.append(row);
    return row;
  }
  addRow();
  const add = h("button", { type: "button", class: "secondary", onclick: () => addRow().querySelector("input").focus() },
    addLabel || "Add " + title.toLowerCase().replace(/s$/, ""));
  const el = h("fieldset", { class: "args" }, h("legend", null, title), rows, add);

  function value() {
    const out = {};
    for (const row of rows.children) {
      const { key, value: raw, type } = row._read();
      if (!key) {
        if (raw.trim()) throw new Error(`${title}: a value without a key (${row.getAttribute("aria-label")})`);
        continue;
      }
      if (type === "number") {
        const v = Number(raw);
        if (raw.trim() === "" || Number.isNaN(v)) throw new Error(`${title}: "${key}" is not a number`);
        out[key] = v;
      } else if (type === "boolean") {
        const v = raw.trim().toLowerCase();
        if (v !== "true" && v !== "false") throw new Error(`${title}: "${key}" must be true or false`);
        out[key] = v === "true";
      } else if (type === "json") {
        try { out[key] = JSON.parse(raw); } catch { throw new Error(`${title}: "${key}" is not valid JSON`); }
      } else out[key] = raw;
    }
    return out;
  }
  function clear() { rows.replaceChildren(); n = 0; addRow(); }
  return { el, value, clear };
}
