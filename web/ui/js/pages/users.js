// Users: every user with its tags, whether it has a password and where it may go (a summary
// of /api/permissions), and the form that adds one (password or none, tags as free text with
// the known tags offered).
import { api, path } from "../api.js";
import { field, h, href, section } from "../dom.js";
import { act } from "../dialog.js";
import { listTable } from "../table.js";
import { tagBadges, tagsInput } from "../admin.js";

function permissionSummary(perms) {
  if (!perms || !perms.length) return h("span", { class: "muted" }, "no access");
  return perms.map((p, i) => [i ? ", " : "", h("a", { href: href("vhosts", p.vhost) }, p.vhost),
    h("span", { class: "muted" }, ` (${p.configure} | ${p.write} | ${p.read})`)]);
}

function addForm(onDone) {
  const name = h("input", { name: "name", required: true, autocomplete: "off" });
  const password = h("input", { name: "password", type: "password", autocomplete: "new-password" });
  const nopw = h("input", { type: "checkbox", name: "no-password" });
  const tags = tagsInput();
  nopw.addEventListener("change", () => { password.disabled = nopw.checked; if (nopw.checked) password.value = ""; });
  const form = h("form", { "aria-label": "Add a user" },
    h("div", { class: "actions" }, field("Username", name), field("Password", password),
      h("label", { class: "inline check" }, nopw, "No password (this user cannot sign in with a password)")),
    tags.el,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Add user")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const user = name.value;
    const body = nopw.checked ? { password_hash: "", tags: tags.value() } : { password: password.value, tags: tags.value() };
    if (!nopw.checked && !password.value) {
      password.setCustomValidity("Give a password or tick \u201cNo password\u201d");
      password.reportValidity();
      password.addEventListener("input", () => password.setCustomValidity(""), { once: true });
      return;
    }
    if (await act(() => api.put(path`/users/${user}`, body), `User ${user} added`)) {
      form.reset();
      password.disabled = false;
      onDone(user);
    }
  });
  return form;
}

export async function render(ctx) {
  ctx.title("Users");
  const list = h("div", { class: "panel" });
  ctx.root.append(h("h1", null, "Users"), list, section("Add a user", addForm(() => refresh())));

  async function refresh() {
    const [users, perms] = await Promise.all([api.get("/users"), api.get("/permissions").catch(() => [])]);
    if (ctx.stale()) return;
    const byUser = new Map();
    for (const p of perms) byUser.set(p.user, [...(byUser.get(p.user) || []), p]);
    users.sort((a, b) => a.name.localeCompare(b.name));
    list.replaceChildren(listTable("Users", [
      { label: "Name", value: (u) => h("a", { href: href("users", u.name) }, u.name) },
      { label: "Tags", value: (u) => tagBadges(u.tags) },
      { label: "Has password", value: (u) => (u.password_hash ? "yes" : "no") },
      { label: "Permissions (configure | write | read)", value: (u) => permissionSummary(byUser.get(u.name)) },
    ], users, (u) => u.name));
  }
  await refresh();
  ctx.every(refresh);
}
