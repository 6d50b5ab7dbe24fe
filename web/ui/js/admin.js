// Pieces the administration pages share (users, vhosts, policies, limits): tag lists, the
// vhost/user pickers, the permission form, limit editors and the policy definition editor
// with typed values. Everything calls the management API as RabbitMQ 3.10 has it.
import { api, path } from "./api.js";
import { field, h } from "./dom.js";
import { act, ask } from "./dialog.js";
import { kvEditor } from "./kv_editor.js";

export const KNOWN_TAGS = ["administrator", "monitoring", "policymaker", "management", "impersonator"];

// RabbitMQ 3.10 answers tags as an array, older versions as "a,b": both become an array.
export function tagList(t) {
  return Array.isArray(t) ? t : String(t || "").split(",").map((x) => x.trim()).filter(Boolean);
}
export function tagBadges(t) {
  const tags = tagList(t);
  return tags.length ? tags.map((x, i) => [i ? " " : "", h("span", { class: "badge" }, x)]) : h("span", { class: "muted" }, "none");
}

// A panel whose title is its table's caption (a section() would say it twice).
export function panel(label, ...children) {
  return h("section", { class: "panel", "aria-label": label }, children);
}

let seq = 0;
const uid = (p) => p + (++seq);

// A free-text tags input (comma separated) with the known tags offered as buttons and a datalist.
export function tagsInput(initial = "") {
  const listId = uid("tags-list");
  const input = h("input", { name: "tags", value: initial, list: listId, autocomplete: "off", placeholder: "e.g. monitoring" });
  const add = (t) => {
    const now = tagList(input.value);
    if (!now.includes(t)) input.value = [...now, t].join(", ");
    input.dispatchEvent(new Event("input"));
  };
  const offer = h("div", { class: "tag-offer", role: "group", "aria-label": "Known tags" },
    KNOWN_TAGS.map((t) => h("button", { type: "button", class: "secondary small", "aria-label": "Add tag " + t, onclick: () => add(t) }, "+ " + t)));
  return {
    el: h("div", { class: "tags-input" }, field("Tags", input, "Comma separated; free text"),
      h("datalist", { id: listId }, KNOWN_TAGS.map((t) => h("option", { value: t }))), offer),
    input,
    value: () => tagList(input.value).join(","),
  };
}

export async function vhostNames() {
  return (await api.get("/vhosts", { columns: "name" })).map((v) => v.name);
}
export async function userNames() {
  return (await api.get("/users", { columns: "name" })).map((u) => u.name);
}

export function select(name, options, selected) {
  return h("select", { name }, options.map((o) => {
    const [value, label] = Array.isArray(o) ? o : [o, o];
    return h("option", { value, selected: value === selected }, label);
  }));
}

// Confirms a deletion in a dialog that names the object; resolves true when confirmed.
export async function confirmDelete(title, text) {
  return !!(await ask({ title, body: h("p", null, text), confirm: "Delete", danger: true }));
}

// Set-permission form. `fixed` is {user} or {vhost}; the other one is picked from `choices`.
export function permissionForm({ fixed, choices, onDone }) {
  const pickVhost = fixed.user !== undefined;
  const pick = select(pickVhost ? "vhost" : "user", choices, choices[0]);
  const conf = h("input", { name: "configure", value: ".*" });
  const write = h("input", { name: "write", value: ".*" });
  const read = h("input", { name: "read", value: ".*" });
  const form = h("form", { class: "inline", "aria-label": "Set permission" },
    field(pickVhost ? "Virtual host" : "User", pick),
    field("Configure regexp", conf), field("Write regexp", write), field("Read regexp", read),
    h("button", { type: "submit" }, "Set permission"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const user = pickVhost ? fixed.user : pick.value;
    const vhost = pickVhost ? pick.value : fixed.vhost;
    const ok = await act(() => api.put(path`/permissions/${vhost}/${user}`,
      { configure: conf.value, write: write.value, read: read.value }), `Permissions of ${user} on ${vhost} set`);
    if (ok) onDone();
  });
  return form;
}

export function clearPermissionButton(user, vhost, onDone) {
  return h("button", { type: "button", class: "secondary small", "aria-label": `Clear permissions of ${user} on ${vhost}`,
    onclick: async () => {
      if (await act(() => api.del(path`/permissions/${vhost}/${user}`), `Permissions of ${user} on ${vhost} cleared`)) onDone();
    } }, "Clear");
}

// Limit editors. kind "vhost" (max-connections, max-queues) or "user" (max-connections,
// max-channels); `current` is the API's {name: value}.
export const LIMITS = { vhost: ["max-connections", "max-queues"], user: ["max-connections", "max-channels"] };

function limitBase(kind, owner) {
  return kind === "vhost" ? path`/vhost-limits/${owner}` : path`/user-limits/${owner}`;
}
export function setLimit(kind, owner, name, value) {
  return api.put(limitBase(kind, owner) + path`/${name}`, { value });
}
export function clearLimit(kind, owner, name) {
  return api.del(limitBase(kind, owner) + path`/${name}`);
}
// A number from a form field, or an Error naming the field.
export function parseLimit(text) {
  const t = String(text).trim();
  if (!/^-?\d+$/.test(t)) throw new Error("A limit is a whole number (negative: no limit)");
  return parseInt(t, 10);
}

// One object's limits: a row per limit with its value, Set and Clear.
export function limitsEditor(kind, owner, current, onDone, caption = "Limits") {
  const rows = LIMITS[kind].map((name) => {
    const has = current && current[name] !== undefined;
    const input = h("input", { type: "number", step: "1", name, value: has ? String(current[name]) : "", placeholder: "no limit", "aria-label": name });
    const set = h("button", { type: "button", "aria-label": "Set " + name, onclick: async () => {
      if (await act(() => setLimit(kind, owner, name, parseLimit(input.value)), `${name} of ${owner} set`)) onDone();
    } }, "Set");
    const clr = h("button", { type: "button", class: "secondary", disabled: !has, "aria-label": "Clear " + name, onclick: async () => {
      if (await act(() => clearLimit(kind, owner, name), `${name} of ${owner} cleared`)) onDone();
    } }, "Clear");
    return h("tr", null, h("th", { scope: "row" }, name), h("td", null, input), h("td", null, set, " ", clr));
  });
  return h("table", { class: "grid limits" }, h("caption", null, caption),
    h("thead", null, h("tr", null, h("th", { scope: "col" }, "Limit"), h("th", { scope: "col" }, "Value"), h("th", { scope: "col" }, "Actions"))),
    h("tbody", null, rows));
}

// RabbitMQ 3.10 and pulsed answer "undefined" for a vhost without a default queue type.
export function defaultQueueType(v) {
  const t = v.default_queue_type || v.metadata?.default_queue_type;
  return t && t !== "undefined" ? t : "";
}

// Replaces a <select>'s options, keeping the chosen value when it is still there.
export function setOptions(sel, options) {
  const was = sel.value;
  sel.replaceChildren(...options.map((o) => {
    const [value, label] = Array.isArray(o) ? o : [o, o];
    return h("option", { value, selected: value === was }, label);
  }));
}

// Policy definition keys RabbitMQ's UI offers, with their value types.
export const POLICY_KEYS = {
  "max-length": "number", "max-length-bytes": "number", "message-ttl": "number", "expires": "number",
  "overflow": "string", "dead-letter-exchange": "string", "dead-letter-routing-key": "string",
  "dead-letter-strategy": "string", "queue-mode": "string", "queue-version": "number",
  "delivery-limit": "number", "queue-master-locator": "string", "queue-leader-locator": "string",
  "ha-mode": "string", "ha-params": "number", "ha-sync-mode": "string", "max-age": "string",
  "stream-max-segment-size-bytes": "number", "alternate-exchange": "string",
  "federation-upstream-set": "string", "federation-upstream": "string",
};
// The definition editor: typed key/value rows (kv_editor.js), known keys typed as they are
// picked. value() returns the definition or throws an Error saying which row is wrong.
export function definitionEditor(initial) {
  const ed = kvEditor({ noun: "Definition", legend: "Definition", keys: POLICY_KEYS, initial });
  function value() {
    const out = ed.value();
    if (!Object.keys(out).length) throw new Error("A policy needs at least one definition key");
    return out;
  }
  return { el: ed.el, value };
}

// The add/update policy form; `policy` prefills it (editing), `kind` "policies" or
// "operator-policies". onDone(vhost, name) after a successful save.
export function policyForm({ vhosts, policy, onDone, kind = "policies" }) {
  const p = policy || {};
  const vhost = select("vhost", vhosts, p.vhost || vhosts[0]);
  const name = h("input", { name: "name", value: p.name || "", required: true });
  const pattern = h("input", { name: "pattern", value: p.pattern || "", required: true, placeholder: "^amq\\." });
  const applyTo = select("apply-to", [["all", "Exchanges and queues"], ["exchanges", "Exchanges"], ["queues", "Queues"]], p["apply-to"] || "all");
  const priority = h("input", { type: "number", step: "1", name: "priority", value: String(p.priority ?? 0) });
  const def = definitionEditor(p.definition);
  const error = h("p", { class: "error", role: "alert", hidden: true });
  if (policy) { vhost.disabled = true; name.readOnly = true; }
  const form = h("form", { class: "policy-form", "aria-label": policy ? "Update policy" : "Add policy" },
    h("div", { class: "actions" }, field("Virtual host", vhost), field("Name", name), field("Pattern", pattern),
      field("Apply to", applyTo), field("Priority", priority)),
    def.el, error,
    h("div", { class: "actions" }, h("button", { type: "submit" }, policy ? "Update policy" : "Add policy")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    let definition;
    try {
      definition = def.value();
      if (!name.value.trim()) throw new Error("A policy needs a name");
    } catch (ex) {
      error.hidden = false;
      error.textContent = ex.message;
      return;
    }
    const body = { pattern: pattern.value, "apply-to": applyTo.value, priority: parseInt(priority.value || "0", 10), definition };
    const ok = await act(() => api.put(`/${kind}` + path`/${vhost.value}/${name.value}`, body), `Policy ${name.value} saved`);
    if (ok) onDone(vhost.value, name.value);
  });
  return form;
}
