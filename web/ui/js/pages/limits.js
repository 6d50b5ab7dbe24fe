// Every vhost limit and user limit in one page (GET /api/vhost-limits, /api/user-limits):
// a row per limit with Clear, and a form per kind that sets one.
import { api } from "../api.js";
import { field, h, href, num } from "../dom.js";
import { act } from "../dialog.js";
import { listTable } from "../table.js";
import { LIMITS, clearLimit, panel, parseLimit, select, setLimit, userNames, vhostNames } from "../admin.js";

// [{vhost|user, value: {name: n}}] → one row per limit.
function flatten(list, who) {
  return (list || []).flatMap((x) => Object.entries(x.value || {}).map(([name, value]) => ({ owner: x[who], name, value })));
}

function setForm(kind, owners, onDone) {
  const noun = kind === "vhost" ? "Virtual host" : "User";
  const owner = select(kind, owners, owners[0]);
  const name = select("limit", LIMITS[kind], LIMITS[kind][0]);
  const value = h("input", { type: "number", step: "1", name: "value", required: true });
  const form = h("form", { class: "inline", "aria-label": `Set a ${kind} limit` },
    field(noun, owner), field("Limit", name), field("Value", value),
    h("button", { type: "submit" }, kind === "vhost" ? "Set virtual host limit" : "Set user limit"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (await act(() => setLimit(kind, owner.value, name.value, parseLimit(value.value)), `${name.value} of ${owner.value} set`)) {
      value.value = "";
      onDone();
    }
  });
  return form;
}

function table(caption, kind, rows, onDone) {
  return listTable(caption, [
    { label: kind === "vhost" ? "Virtual host" : "User", value: (r) => h("a", { href: href(kind === "vhost" ? "vhosts" : "users", r.owner) }, r.owner) },
    { label: "Limit", value: (r) => r.name },
    { label: "Value", cls: "num", value: (r) => num(r.value) },
    { label: "", value: (r) => h("button", { type: "button", class: "secondary small", "aria-label": `Clear ${r.name} of ${r.owner}`,
      onclick: async () => { if (await act(() => clearLimit(kind, r.owner, r.name), `${r.name} of ${r.owner} cleared`)) onDone(); } }, "Clear") },
  ], rows, (r) => r.owner + "/" + r.name);
}

export async function render(ctx) {
  ctx.title("Limits");
  const [vhosts, users] = await Promise.all([vhostNames(), userNames()]);
  if (ctx.stale()) return;
  const vbox = h("div");
  const ubox = h("div");
  ctx.root.append(h("h1", null, "Limits"),
    panel("Virtual host limits", vbox, setForm("vhost", vhosts, () => refresh()),
      h("p", { class: "note" }, "max-connections: client connections to the virtual host; max-queues: queues in it. A negative value means no limit, 0 refuses all.")),
    panel("User limits", ubox, setForm("user", users, () => refresh()),
      h("p", { class: "note" }, "max-connections: connections of the user; max-channels: channels per connection of the user.")));

  async function refresh() {
    const [vl, ul] = await Promise.all([api.get("/vhost-limits"), api.get("/user-limits")]);
    if (ctx.stale()) return;
    vbox.replaceChildren(table("Virtual host limits", "vhost", flatten(vl, "vhost"), refresh));
    ubox.replaceChildren(table("User limits", "user", flatten(ul, "user"), refresh));
  }
  await refresh();
  ctx.every(refresh);
}
