// #/pulse/namespaces (administrators): the claimed namespaces, a claim or refresh (expiry and
// contact) whose one-time credentials are shown once, and release.
import { api, path } from "../api.js";
import { act, ask } from "../dialog.js";
import { facts, field, h, link, section } from "../dom.js";
import { listTable } from "../table.js";
import { when } from "../pulse_ui.js";

// A datetime-local value (the browser's local time) as RFC 3339 in UTC.
function rfc3339(local) {
  const t = new Date(local);
  return Number.isNaN(t.getTime()) ? local : t.toISOString().replace(/\.\d{3}Z$/, "Z");
}
function localInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export async function render(ctx) {
  ctx.title("Pulse namespaces");
  ctx.root.append(h("h1", null, "Namespaces", h("span", { class: "sub" }, link("Pulse", "pulse"))));
  const list = h("div");
  const secret = h("div", { role: "status", "aria-live": "polite" });
  const ns = h("input", { name: "namespace", required: true, autocomplete: "off" });
  const expires = h("input", { name: "expires", type: "datetime-local", required: true, value: localInput(new Date(Date.now() + 86400e3)) });
  const contact = h("input", { name: "contact" });
  const form = h("form", { class: "inline", "aria-label": "Claim a namespace" },
    field("Namespace", ns), field("Expires", expires, "your local time"), field("Contact", contact, "empty on a refresh keeps it"),
    h("button", { type: "submit" }, "Claim or refresh"));
  ctx.root.append(section("Claims", list), section("Claim or refresh", form, secret));

  function showSecret(c) {
    // The password is the API's answer to this claim only: it is never listed again.
    secret.replaceChildren(h("div", { class: "panel secret", role: "region", "aria-label": "New credentials" },
      h("h3", null, `Credentials of ${c.namespace}: shown once`),
      facts([["User", h("code", null, c.username)], ["Password", h("code", null, c.password)],
        ["Connection string", h("code", null, c.connection_string)], ["Expires", when(c.expires)],
        ["Reclaimed at", when(c.reclaim_at)]]),
      h("p", { class: "note" }, "Copy them now: Pulse does not show this password again."),
      h("button", { type: "button", class: "secondary", onclick: () => secret.replaceChildren() }, "Hide credentials")));
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { expires: rfc3339(expires.value) };
    if (contact.value) body.contact = contact.value;
    const c = await act(() => api.post(path`/pulse/namespaces/${ns.value}`, body), `Namespace ${ns.value} claimed`);
    if (c && typeof c === "object") { showSecret(c); ns.value = ""; contact.value = ""; refresh(); }
  });

  async function release(c) {
    const ok = await ask({ title: `Release namespace ${c.namespace}?`, confirm: "Release", danger: true,
      body: "As an expiry does, now: its users, their connections, its queues and exchanges go." });
    if (ok && await act(() => api.del(path`/pulse/namespaces/${c.namespace}`), `Namespace ${c.namespace} released`)) refresh();
  }

  async function refresh() {
    const claims = await api.get("/pulse/namespaces");
    if (ctx.stale()) return;
    list.replaceChildren(listTable("Claimed namespaces", [
      { label: "Namespace", value: (c) => c.namespace },
      { label: "Expires", value: (c) => when(c.expires) },
      { label: "Contact", value: (c) => c.contact || "" },
      { label: "Current user", value: (c) => c.current_user },
      { label: "Created", value: (c) => when(c.created) },
      { label: "Last rotation", value: (c) => when(c.last_rotation) },
      { label: "Reclaimed at", value: (c) => when(c.reclaim_at) },
      { label: "Actions", value: (c) => h("button", { type: "button", class: "secondary", "aria-label": `Release ${c.namespace}`, onclick: () => release(c) }, "Release") },
    ], claims, (c) => c.namespace));
  }
  await refresh();
  ctx.every(refresh);
}
