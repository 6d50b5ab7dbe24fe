// One user: its facts, tags and password, permissions per vhost (set / clear), topic
// permissions, its connection and channel limits, and deletion.
import { api, path } from "../api.js";
import { facts, field, h, href, section } from "../dom.js";
import { act } from "../dialog.js";
import { listTable } from "../table.js";
import {
  clearPermissionButton, confirmDelete, panel, limitsEditor, permissionForm, select, tagBadges, tagList, tagsInput, vhostNames,
} from "../admin.js";

function tagsForm(user, onDone) {
  const tags = tagsInput(tagList(user.tags).join(", "));
  const form = h("form", { "aria-label": "Change tags" }, tags.el,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Save tags")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    // Tags alone: the password stays (RabbitMQ 3.10 and pulsed alike).
    if (await act(() => api.put(path`/users/${user.name}`, { tags: tags.value() }), `Tags of ${user.name} saved`)) onDone();
  });
  return form;
}

function passwordForm(user, onDone) {
  const pw = h("input", { type: "password", name: "password", autocomplete: "new-password" });
  const none = h("input", { type: "checkbox", name: "no-password" });
  none.addEventListener("change", () => { pw.disabled = none.checked; if (none.checked) pw.value = ""; });
  const form = h("form", { class: "inline", "aria-label": "Change password" },
    field("New password", pw), h("label", { class: "inline check" }, none, "No password"),
    h("button", { type: "submit" }, "Change password"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!none.checked && !pw.value) { pw.setCustomValidity("Give a password or tick \u201cNo password\u201d"); pw.reportValidity(); pw.addEventListener("input", () => pw.setCustomValidity(""), { once: true }); return; }
    const tags = tagList(user.tags).join(",");
    const body = none.checked ? { password_hash: "", tags } : { password: pw.value, tags };
    if (await act(() => api.put(path`/users/${user.name}`, body), none.checked ? `Password of ${user.name} removed` : `Password of ${user.name} changed`)) {
      form.reset();
      pw.disabled = false;
      onDone();
    }
  });
  return form;
}

function topicForm(name, vhosts, onDone) {
  const vh = select("vhost", vhosts, vhosts[0]);
  const ex = h("input", { name: "exchange", value: "amq.topic" });
  const write = h("input", { name: "write", value: ".*" });
  const read = h("input", { name: "read", value: ".*" });
  const form = h("form", { class: "inline", "aria-label": "Set topic permission" },
    field("Virtual host", vh), field("Exchange", ex), field("Write regexp", write), field("Read regexp", read),
    h("button", { type: "submit" }, "Set topic permission"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (await act(() => api.put(path`/topic-permissions/${vh.value}/${name}`, { exchange: ex.value, write: write.value, read: read.value }),
      `Topic permission of ${name} on ${vh.value} set`)) onDone();
  });
  return form;
}

export async function render(ctx) {
  const name = ctx.params.name;
  ctx.title("User " + name);
  const head = h("h1", null, "User ", h("span", { class: "sub" }, name));
  const about = h("div");
  const perms = h("div");
  const topics = h("div");
  const limits = h("div", { class: "panel" });
  const vhosts = await vhostNames();
  if (ctx.stale()) return;
  let user = await api.get(path`/users/${name}`);
  if (ctx.stale()) return;
  const tagsBox = h("div");
  const del = h("button", { type: "button", class: "danger", onclick: async () => {
    if (!(await confirmDelete(`Delete user ${name}?`, `User ${name}, its permissions and limits will be deleted. Its open connections are closed.`))) return;
    if (await act(() => api.del(path`/users/${name}`), `User ${name} deleted`)) ctx.go("#/users");
  } }, "Delete user");
  ctx.root.append(head,
    h("div", { class: "grid2" }, section("About", about), section("Tags and password", tagsBox)),
    panel("Permissions", perms, permissionForm({ fixed: { user: name }, choices: vhosts, onDone: () => refresh() })),
    panel("Topic permissions", topics, topicForm(name, vhosts, () => refresh())),
    limits,
    section("Delete this user", h("p", null, "Deletes the user with its permissions and limits."), del));

  function renderTags() {
    tagsBox.replaceChildren(tagsForm(user, () => refresh()), passwordForm(user, () => refresh()));
  }
  renderTags();

  async function refresh() {
    const [u, p, t, l] = await Promise.all([
      api.get(path`/users/${name}`), api.get(path`/users/${name}/permissions`),
      api.get(path`/users/${name}/topic-permissions`).catch(() => []),
      api.get(path`/user-limits/${name}`).catch(() => []),
    ]);
    if (ctx.stale()) return;
    const tagsChanged = tagList(u.tags).join(",") !== tagList(user.tags).join(",");
    user = u;
    if (tagsChanged) renderTags();
    about.replaceChildren(facts([
      ["Name", u.name], ["Tags", tagBadges(u.tags)], ["Has password", u.password_hash ? "yes" : "no"],
      ["Hashing", u.hashing_algorithm || ""],
    ]));
    perms.replaceChildren(listTable("Permissions of " + name, [
      { label: "Virtual host", value: (x) => h("a", { href: href("vhosts", x.vhost) }, x.vhost) },
      { label: "Configure", value: (x) => h("code", null, x.configure) },
      { label: "Write", value: (x) => h("code", null, x.write) },
      { label: "Read", value: (x) => h("code", null, x.read) },
      { label: "", value: (x) => clearPermissionButton(name, x.vhost, () => refresh()) },
    ], p, (x) => x.vhost));
    topics.replaceChildren(listTable("Topic permissions of " + name, [
      { label: "Virtual host", value: (x) => x.vhost },
      { label: "Exchange", value: (x) => x.exchange },
      { label: "Write", value: (x) => h("code", null, x.write) },
      { label: "Read", value: (x) => h("code", null, x.read) },
      { label: "", value: (x) => h("button", { type: "button", class: "secondary small", "aria-label": `Clear topic permissions on ${x.vhost}`,
        onclick: async () => { if (await act(() => api.del(path`/topic-permissions/${x.vhost}/${name}`), "Topic permissions cleared")) refresh(); } }, "Clear") },
    ], t, (x) => x.vhost + "/" + x.exchange));
    // Rebuilt only when the limits changed, so a value being typed survives the refresh.
    const cur = (l[0] && l[0].value) || {};
    const key = JSON.stringify(cur);
    if (limits.dataset.key !== key) {
      limits.dataset.key = key;
      limits.replaceChildren(limitsEditor("user", name, cur, () => refresh(), "Limits of " + name));
    }
  }
  await refresh();
  ctx.every(refresh);
}
