// #/pulse/users/<name>: one Pulse user for its owner or an administrator: description and
// password changes, deletion (optionally with its queues), its queues with their bindings,
// each exchange linking to the live inspector, each queue to the queue page for those who may
// open it.
import { api, path } from "../api.js";
import { act, ask } from "../dialog.js";
import { facts, field, h, href, link, num, section, since, yesno } from "../dom.js";
import { listTable } from "../table.js";
import { seesBroker, when } from "../pulse_ui.js";

function inspectorLink(vhost, exchange, key) {
  const p = new URLSearchParams();
  p.set("vhost", vhost);
  p.append("e", exchange);
  p.append("k", key || "#");
  return h("a", { href: "/inspector/#" + p.toString(), title: "Watch in the inspector" }, exchange || "(default)");
}

function bindings(q) {
  if (!q.bindings?.length) return h("span", { class: "muted" }, "none");
  return h("ul", { class: "bindings" }, q.bindings.map((b) =>
    h("li", null, inspectorLink(q.vhost, b.source, b.routing_key), " ", h("code", null, b.routing_key || "(empty key)"))));
}

// An administrator writes to the user's owners about one queue (POST /pulse/guardian/notices):
// published, mailed and listed like the guardian's notices.
async function notify(q) {
  const message = h("textarea", { name: "message", required: true, maxlength: 1000, rows: 4 });
  const ok = await ask({ title: `Notify the owner of ${q.name}`, confirm: "Send notice",
    body: "The owner gets it by mail (when a mailer is configured), on exchange/pulse/guardian and on their Pulse page.",
    fields: [field("Message", message)] });
  if (ok) await act(() => api.post("/pulse/guardian/notices", { vhost: q.vhost, queue: q.name, message: message.value }), "Notice sent");
}

export async function render(ctx) {
  const name = ctx.params.name;
  ctx.title("Pulse user " + name);
  const u = await api.get(path`/pulse/users/${name}`);
  if (ctx.stale()) return;
  const about = h("div");
  const queues = h("div");
  const description = h("input", { name: "description", value: u.description || "" });
  const password = h("input", { name: "password", type: "password", autocomplete: "new-password" });
  const form = h("form", { class: "inline", "aria-label": "Change Pulse user" },
    field("Description", description),
    field("New password", password, "Connections, permissions and queues stay"),
    h("button", { type: "submit" }, "Save changes"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { description: description.value };
    if (password.value) body.password = password.value;
    if (await act(() => api.put(path`/pulse/users/${name}`, body), password.value ? "Password changed" : "Saved")) {
      password.value = "";
      refresh();
    }
  });
  const del = h("button", { type: "button", class: "danger" }, "Delete this user");
  del.addEventListener("click", async () => {
    const also = h("input", { type: "checkbox", name: "delete_queues" });
    const ok = await ask({ title: `Delete Pulse user ${name}?`, danger: true, confirm: "Delete user",
      body: "Its broker user goes and its connections close.",
      fields: [h("label", { class: "check" }, also, `Also delete its queues (queue/${name}/...)`)] });
    if (!ok) return;
    const params = also.checked ? { delete_queues: "true" } : undefined;
    if (await act(() => api.del(path`/pulse/users/${name}`, params), `Pulse user ${name} deleted`)) ctx.go("#/pulse");
  });
  ctx.root.append(h("h1", null, name, h("span", { class: "sub" }, "Pulse user")),
    h("p", null, link("Pulse", "pulse")),
    section("User", about), section("Change", form), section("Queues", queues),
    section("Delete", h("p", null, "Deleting the user closes its connections; its queues stay unless you say so."), del));

  async function refresh() {
    const [cur, qs] = await Promise.all([api.get(path`/pulse/users/${name}`), api.get(path`/pulse/users/${name}/queues`)]);
    if (ctx.stale()) return;
    about.replaceChildren(facts([["Name", cur.name],
      ["Owners", (cur.owners || []).map((o, i) => [i ? ", " : "", link(o, "pulse", "owners", o)])],
      ["Description", cur.description || h("span", { class: "muted" }, "none")],
      ["Queues", num(cur.queue_count ?? qs.length)], ["Created", when(cur.created)]]));
    queues.replaceChildren(listTable(`Queues of ${name}`, [
      { label: "Name", value: (q) => seesBroker() ? h("a", { href: href("queues", q.vhost, q.name) }, q.name) : q.name },
      { label: "Vhost", value: (q) => q.vhost },
      { label: "Messages", cls: "num", value: (q) => num(q.messages) },
      { label: "Ready", cls: "num", value: (q) => num(q.messages_ready) },
      { label: "Unacked", cls: "num", value: (q) => num(q.messages_unacknowledged) },
      { label: "Consumers", cls: "num", value: (q) => num(q.consumers) },
      { label: "Durable", value: (q) => yesno(q.durable) },
      { label: "Idle for", value: (q) => since(q.idle_since) },
      { label: "Bindings", value: bindings },
      ctx.pulse?.admin ? { label: "Actions", value: (q) => h("button", { type: "button", class: "secondary",
        "aria-label": `Notify the owner of ${q.name}`, onclick: () => notify(q) }, "Notify owner") } : null,
    ].filter(Boolean), qs, (q) => q.vhost + "/" + q.name));
  }
  await refresh();
  ctx.every(refresh);
}
