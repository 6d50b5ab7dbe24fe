// Policies per vhost (all, or the one picked): name, pattern, apply-to, priority and
// definition; add/update with a typed definition editor; delete after a confirmation.
// Operator policies are listed below when the broker answers /api/operator-policies (pulsed
// has none to set; RabbitMQ's are edited the same way as policies).
import { api, path } from "../api.js";
import { field, h, href, kv, section } from "../dom.js";
import { act } from "../dialog.js";
import { listTable } from "../table.js";
import { confirmDelete, policyForm, select, vhostNames } from "../admin.js";

export function policyColumns(kind, onDone) {
  const base = kind === "policies" ? "policies" : null;
  return [
    { label: "Virtual host", value: (p) => p.vhost },
    { label: "Name", value: (p) => (base ? h("a", { href: href(base, p.vhost, p.name) }, p.name) : p.name) },
    { label: "Pattern", value: (p) => h("code", null, p.pattern) },
    { label: "Apply to", value: (p) => p["apply-to"] },
    { label: "Priority", cls: "num", value: (p) => String(p.priority ?? 0) },
    { label: "Definition", value: (p) => kv(p.definition) },
    { label: "", value: (p) => h("button", { type: "button", class: "secondary small", "aria-label": `Delete policy ${p.name}`,
      onclick: async () => {
        if (!(await confirmDelete(`Delete policy ${p.name}?`, `Policy ${p.name} on virtual host ${p.vhost} will be deleted; the objects it matched lose its settings.`))) return;
        if (await act(() => api.del(`/${kind}` + path`/${p.vhost}/${p.name}`), `Policy ${p.name} deleted`)) onDone();
      } }, "Delete") },
  ];
}

export async function render(ctx) {
  ctx.title("Policies");
  const vhosts = await vhostNames();
  if (ctx.stale()) return;
  const want = ctx.query.get("vhost") || "";
  const pick = select("vhost-filter", [["", "All virtual hosts"], ...vhosts], want);
  pick.addEventListener("change", () => { ctx.replaceQuery(pick.value ? { vhost: pick.value } : {}); refresh(); });
  const list = h("div");
  const ops = h("div");
  const opsPanel = h("div", { class: "panel" }, ops);
  opsPanel.hidden = true;
  ctx.root.append(h("h1", null, "Policies"),
    h("div", { class: "actions" }, field("Virtual host shown", pick)),
    h("div", { class: "panel" }, list),
    section("Add or update a policy", policyForm({ vhosts, onDone: () => refresh() })),
    opsPanel);

  async function refresh() {
    const one = pick.value;
    const [pols, opPols] = await Promise.all([
      api.get(one ? path`/policies/${one}` : "/policies"),
      api.get(one ? path`/operator-policies/${one}` : "/operator-policies").catch(() => null),
    ]);
    if (ctx.stale()) return;
    const order = (a, b) => a.vhost.localeCompare(b.vhost) || (b.priority ?? 0) - (a.priority ?? 0) || a.name.localeCompare(b.name);
    list.replaceChildren(listTable(one ? `Policies on ${one}` : "Policies", policyColumns("policies", refresh), pols.sort(order), (p) => p.vhost + "/" + p.name));
    opsPanel.hidden = opPols === null;
    if (opPols) {
      ops.replaceChildren(listTable("Operator policies", policyColumns("operator-policies", refresh), opPols.sort(order), (p) => p.vhost + "/" + p.name),
        h("p", { class: "note" }, "Operator policies are set by the operator (rabbitmqctl set_operator_policy) and shown here read-only; pulsed has none."));
    }
  }
  await refresh();
  ctx.every(refresh);
}
