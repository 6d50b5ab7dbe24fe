// One policy: what it says, the form that updates it, and deletion.
import { api, path } from "../api.js";
import { facts, h, href, kv, section } from "../dom.js";
import { act } from "../dialog.js";
import { confirmDelete, policyForm } from "../admin.js";

export async function render(ctx) {
  const { vhost, name } = ctx.params;
  ctx.title("Policy " + name);
  const p = await api.get(path`/policies/${vhost}/${name}`);
  if (ctx.stale()) return;
  const about = h("div");
  const show = (x) => about.replaceChildren(facts([
    ["Virtual host", h("a", { href: href("vhosts", x.vhost) }, x.vhost)], ["Name", x.name],
    ["Pattern", h("code", null, x.pattern)], ["Apply to", x["apply-to"]], ["Priority", String(x.priority ?? 0)],
    ["Definition", kv(x.definition)],
  ]));
  show(p);
  const del = h("button", { type: "button", class: "danger", onclick: async () => {
    if (!(await confirmDelete(`Delete policy ${name}?`, `Policy ${name} on virtual host ${vhost} will be deleted; the objects it matched lose its settings.`))) return;
    if (await act(() => api.del(path`/policies/${vhost}/${name}`), `Policy ${name} deleted`)) ctx.go("#/policies");
  } }, "Delete policy");
  ctx.root.append(h("h1", null, "Policy ", h("span", { class: "sub" }, `${name} on ${vhost}`)),
    section("About", about),
    section("Update this policy", policyForm({ vhosts: [vhost], policy: p, onDone: async () => {
      const now = await api.get(path`/policies/${vhost}/${name}`);
      if (!ctx.stale()) show(now);
    } })),
    section("Delete this policy", del));
}
