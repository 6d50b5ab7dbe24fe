// One virtual host: facts, who may use it (permissions set/clear), its limits, deletion (the
// dialog says how many queues and messages go with it), and "Clone topology": a new vhost
// with this one's exchanges, queues, bindings and policies, through the per-vhost
// definitions export/import both brokers have (no messages are copied).
import { api, path } from "../api.js";
import { facts, field, h, href, num, rate, section } from "../dom.js";
import { act, toast } from "../dialog.js";
import { listTable } from "../table.js";
import {
  clearPermissionButton, confirmDelete, defaultQueueType, limitsEditor, panel, permissionForm, tagBadges, userNames,
} from "../admin.js";

const strip = (items) => (items || []).map(({ vhost, ...rest }) => rest);

// The topology of `from` as a per-vhost import body, with what it holds.
export async function topologyOf(from) {
  const d = await api.get(path`/definitions/${from}`);
  const body = {
    exchanges: strip(d.exchanges), queues: strip(d.queues), bindings: strip(d.bindings), policies: strip(d.policies),
  };
  return body;
}

function cloneForm(from, ctx) {
  const name = h("input", { name: "clone", required: true, autocomplete: "off" });
  const result = h("p", { role: "status", class: "clone-result" });
  const form = h("form", { class: "inline", "aria-label": "Clone topology" },
    field("New virtual host", name), h("button", { type: "submit" }, "Clone topology"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const to = name.value;
    result.className = "clone-result";
    result.textContent = "Copying…";
    try {
      const exists = await api.get(path`/vhosts/${to}`).then(() => true, (ex) => (ex.status === 404 ? false : Promise.reject(ex)));
      if (exists) throw new Error(`Virtual host ${to} already exists: clone into a new name`);
      const body = await topologyOf(from);
      await api.put(path`/vhosts/${to}`, { description: `Topology copy of ${from}`, tags: "" });
      try {
        await api.post(path`/definitions/${to}`, body);
      } catch (ex) {
        throw new Error(`Virtual host ${to} was created but the import was refused: ${ex.message}`);
      }
      result.className = "clone-result ok";
      result.replaceChildren(`Copied ${body.exchanges.length} exchanges, ${body.queues.length} queues, ` +
        `${body.bindings.length} bindings and ${body.policies.length} policies to `, h("a", { href: href("vhosts", to) }, to),
      " (no messages).");
      toast(`Topology of ${from} cloned to ${to}`);
      form.reset();
    } catch (ex) {
      result.className = "clone-result error";
      result.textContent = ex.message || String(ex);
    }
  });
  return h("div", null, h("p", { class: "note" }, "Creates a new virtual host with this one's exchanges, queues, bindings and policies: " +
    "a staging copy without messages. You get full permissions on it."), form, result);
}

export async function render(ctx) {
  const name = ctx.params.name;
  ctx.title("Virtual host " + name);
  let vh = await api.get(path`/vhosts/${name}`);
  const users = await userNames().catch(() => []);
  if (ctx.stale()) return;
  const about = h("div");
  const perms = h("div");
  const limits = h("div", { class: "panel" });
  const del = h("button", { type: "button", class: "danger", onclick: async () => {
    const [qs, v] = await Promise.all([
      api.get(path`/queues/${name}`, { page: 1, page_size: 1, pagination: "true", columns: "name" }).catch(() => null),
      api.get(path`/vhosts/${name}`).catch(() => vh),
    ]);
    const queues = qs ? qs.total_count ?? 0 : "its";
    const text = `Virtual host ${name} will be deleted with ${num(queues)} queue${queues === 1 ? "" : "s"} and ${num(v.messages ?? 0)} message${v.messages === 1 ? "" : "s"}, ` +
      "its exchanges, bindings, policies and permissions. Its connections are closed.";
    if (!(await confirmDelete(`Delete virtual host ${name}?`, text))) return;
    if (await act(() => api.del(path`/vhosts/${name}`), `Virtual host ${name} deleted`)) ctx.go("#/vhosts");
  } }, "Delete virtual host");
  ctx.root.append(h("h1", null, "Virtual host ", h("span", { class: "sub" }, name)),
    h("div", { class: "grid2" }, section("About", about), limits),
    panel("Permissions", perms, users.length ? permissionForm({ fixed: { vhost: name }, choices: users, onDone: () => refresh() }) : null),
    section("Clone topology", cloneForm(name, ctx)),
    section("Delete this virtual host", del));

  async function refresh() {
    const [v, p, l] = await Promise.all([
      api.get(path`/vhosts/${name}`), api.get(path`/vhosts/${name}/permissions`),
      api.get(path`/vhost-limits/${name}`).catch(() => []),
    ]);
    if (ctx.stale()) return;
    vh = v;
    about.replaceChildren(facts([
      ["Name", v.name], ["Description", v.description || ""], ["Tags", tagBadges(v.tags)],
      defaultQueueType(v) ? ["Default queue type", defaultQueueType(v)] : null,
      ["Messages", `${num(v.messages ?? 0)} (${num(v.messages_ready ?? 0)} ready, ${num(v.messages_unacknowledged ?? 0)} unacked)`],
      ["Publish", rate(v.message_stats?.publish_details?.rate ?? 0)],
      ["Deliver / get", rate(v.message_stats?.deliver_get_details?.rate ?? 0)],
      v.tracing !== undefined ? ["Tracing", v.tracing ? "on" : "off"] : null,
    ]));
    perms.replaceChildren(listTable("Permissions on " + name, [
      { label: "User", value: (x) => h("a", { href: href("users", x.user) }, x.user) },
      { label: "Configure", value: (x) => h("code", null, x.configure) },
      { label: "Write", value: (x) => h("code", null, x.write) },
      { label: "Read", value: (x) => h("code", null, x.read) },
      { label: "", value: (x) => clearPermissionButton(x.user, name, () => refresh()) },
    ], p, (x) => x.user));
    const cur = (l[0] && l[0].value) || {};
    const key = JSON.stringify(cur);
    if (limits.dataset.key !== key) {
      limits.dataset.key = key;
      limits.replaceChildren(limitsEditor("vhost", name, cur, () => refresh(), "Limits of " + name));
    }
  }
  await refresh();
  ctx.every(refresh);
}
