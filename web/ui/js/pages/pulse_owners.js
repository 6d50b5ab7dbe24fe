// #/pulse/owners (administrators): every owner, a form for a new one (email, display name,
// admin, password: the password makes their sign-in) and deletion.
import { api, path } from "../api.js";
import { act, ask } from "../dialog.js";
import { field, h, link, num, section, yesno } from "../dom.js";
import { listTable } from "../table.js";
import { when } from "../pulse_ui.js";

export async function render(ctx) {
  ctx.title("Pulse owners");
  ctx.root.append(h("h1", null, "Pulse owners", h("span", { class: "sub" }, link("Pulse", "pulse"))));
  const list = h("div");
  const email = h("input", { name: "email", type: "email", required: true, autocomplete: "off" });
  const display = h("input", { name: "display_name" });
  const admin = h("input", { name: "admin", type: "checkbox" });
  const password = h("input", { name: "password", type: "password", autocomplete: "new-password" });
  const form = h("form", { class: "inline", "aria-label": "New owner" },
    field("Email", email), field("Display name", display),
    field("Password", password, "Makes their sign-in; leave empty for an existing broker user"),
    h("label", { class: "inline check" }, admin, "Administrator"),
    h("button", { type: "submit" }, "Create owner"));
  ctx.root.append(section("Owners", list), section("New owner", form));

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { display_name: display.value, admin: admin.checked };
    if (password.value) body.password = password.value;
    const who = email.value;
    if (await act(() => api.put(path`/pulse/owners/${who}`, body), `Owner ${who} created`)) {
      form.reset();
      refresh();
    }
  });

  async function remove(o) {
    const ok = await ask({ title: `Delete owner ${o.email}?`, confirm: "Delete owner", danger: true,
      body: "Their sign-in goes too. An owner who still owns Pulse users cannot be deleted." });
    if (ok && await act(() => api.del(path`/pulse/owners/${o.email}`), `Owner ${o.email} deleted`)) refresh();
  }

  async function refresh() {
    const owners = await api.get("/pulse/owners");
    if (ctx.stale()) return;
    list.replaceChildren(listTable("Owners", [
      { label: "Email", value: (o) => link(o.email, "pulse", "owners", o.email) },
      { label: "Display name", value: (o) => o.display_name || "" },
      { label: "Administrator", value: (o) => yesno(o.admin) },
      { label: "Pulse users", cls: "num", value: (o) => num((o.users || []).length) },
      { label: "Sign-in", value: (o) => o.login ? "made by Pulse" : "broker user" },
      { label: "Created", value: (o) => when(o.created) },
      { label: "Actions", value: (o) => h("button", { type: "button", class: "secondary", "aria-label": `Delete owner ${o.email}`,
        onclick: () => remove(o) }, "Delete") },
    ], owners, (o) => o.email));
  }
  await refresh();
  ctx.every(refresh);
}
