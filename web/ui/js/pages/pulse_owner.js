// #/pulse/owners/<email>: one owner (an administrator's view of anyone, an owner's of itself):
// display name and password changes, the admin flag (administrators only), their Pulse users.
import { api, path } from "../api.js";
import { act } from "../dialog.js";
import { facts, field, h, link, num, section, yesno } from "../dom.js";
import { listTable } from "../table.js";
import { when } from "../pulse_ui.js";

export async function render(ctx) {
  const email = ctx.params.email;
  ctx.title("Owner " + email);
  const admin = !!ctx.pulse?.admin;
  const o = await api.get(path`/pulse/owners/${email}`);
  if (ctx.stale()) return;
  const head = h("h1", null, o.display_name || o.email, h("span", { class: "sub" }, "Pulse owner"));
  const about = h("div");
  const users = h("div");
  const display = h("input", { name: "display_name", value: o.display_name || "" });
  const password = h("input", { name: "password", type: "password", autocomplete: "new-password" });
  const adminBox = admin ? h("input", { name: "admin", type: "checkbox", checked: !!o.admin }) : null;
  const form = h("form", { class: "inline", "aria-label": "Change owner" },
    field("Display name", display),
    o.login ? field("New password", password, "Leave empty to keep the current one") : null,
    adminBox ? h("label", { class: "inline check" }, adminBox, "Administrator") : null,
    h("button", { type: "submit" }, "Save changes"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { display_name: display.value };
    if (password.value) body.password = password.value;
    if (adminBox) body.admin = adminBox.checked;
    if (await act(() => api.put(path`/pulse/owners/${email}`, body), "Owner saved")) {
      password.value = "";
      refresh();
    }
  });
  ctx.root.append(head, admin ? h("p", null, link("All owners", "pulse", "owners")) : null,
    section("Owner", about), section("Change", form), section("Pulse users", users));

  async function refresh() {
    const [cur, all] = await Promise.all([api.get(path`/pulse/owners/${email}`), api.get("/pulse/users")]);
    if (ctx.stale()) return;
    head.firstChild.textContent = cur.display_name || cur.email;
    about.replaceChildren(facts([["Email", cur.email], ["Display name", cur.display_name || ""],
      ["Administrator", yesno(cur.admin)], ["Sign-in", cur.login ? "made by Pulse" : "a broker user made outside Pulse"],
      ["Created", when(cur.created)]]));
    const byName = new Map(all.map((u) => [u.name, u]));
    users.replaceChildren(listTable("Their Pulse users", [
      { label: "Name", value: (n) => link(n, "pulse", "users", n) },
      { label: "Description", value: (n) => byName.get(n)?.description || "" },
      { label: "Queues", cls: "num", value: (n) => num(byName.get(n)?.queue_count) },
    ], cur.users || [], (n) => n));
  }
  await refresh();
  ctx.every(refresh);
}
