// #/pulse: an owner's home (their Pulse users with queue counts, a form for a new one, the
// guardian's notices about them, the thresholds in force for them); an administrator also sees
// the guardian's state, every recent notice and the ways to the other Pulse pages.
import { api, path } from "../api.js";
import { act } from "../dialog.js";
import { facts, field, h, href, link, num, section, yesno } from "../dom.js";
import { listTable } from "../table.js";
import { guardianState, noticesTable, when } from "../pulse_ui.js";

const RECENT = 50;

function thresholdsOf(users, g, owners, unbounded) {
  const s = g.settings;
  return listTable("Thresholds in force", [
    { label: "Pulse user", value: (u) => link(u, "pulse", "users", u) },
    { label: "Warning over", cls: "num", value: (u) => num(owners[u]?.warn_queue_size ?? s.warn_queue_size) },
    { label: "Deletion over", cls: "num", value: (u) => num(owners[u]?.delete_queue_size ?? s.delete_queue_size) },
    { label: "Set for", value: (u) => owners[u] ? "this user" : "everyone (default)" },
    { label: "Unbounded queues", value: (u) => unbounded.filter((f) => f.queue.startsWith(`queue/${u}/`)).map((f) => f.queue).join(", ") || "none" },
  ], users, (u) => u);
}

function newUserForm(ctx, onDone) {
  const admin = ctx.pulse?.admin;
  const name = h("input", { name: "name", required: true, autocomplete: "off", pattern: "[A-Za-z][A-Za-z0-9._\\-]*" });
  const password = h("input", { name: "password", type: "password", required: true, autocomplete: "new-password" });
  const description = h("input", { name: "description" });
  // An administrator who is no owner names the owner; an owner makes users for itself.
  const owner = admin && !ctx.pulse.owner ? h("input", { name: "owner", type: "email", required: true }) : null;
  const form = h("form", { class: "inline", "aria-label": "New Pulse user" },
    field("User name", name), field("Password", password), field("Description", description),
    owner ? field("Owner (email)", owner) : null,
    h("button", { type: "submit" }, "Create user"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { password: password.value, description: description.value };
    if (owner) body.owner = owner.value;
    const r = await act(() => api.put(path`/pulse/users/${name.value}`, body), `Pulse user ${name.value} created`);
    if (r) { form.reset(); onDone(); }
  });
  return form;
}

export async function render(ctx) {
  ctx.title("Pulse");
  const me = ctx.pulse || (await api.get("/pulse/whoami"));
  const admin = !!me.admin;
  ctx.root.append(h("h1", null, "Pulse", h("span", { class: "sub" }, me.display_name || me.name)));
  if (!me.owner && !admin) {
    ctx.root.append(h("p", { class: "panel" }, "You are signed in as ", h("strong", null, me.name),
      ", who is neither a Pulse owner nor an administrator: there is nothing of yours here."));
    return;
  }
  if (admin) {
    ctx.root.append(h("nav", { class: "actions pulse-links", "aria-label": "Pulse administration" },
      link("Owners", "pulse", "owners"), link("Guardian", "pulse", "guardian"), link("Namespaces", "pulse", "namespaces"),
      link("Push subscriptions", "pulse", "subscriptions")));
  } else {
    ctx.root.append(h("nav", { class: "actions pulse-links", "aria-label": "Pulse" }, link("Push subscriptions", "pulse", "subscriptions")));
  }
  const guardianBox = h("div");
  const usersBox = h("div");
  const thresholdsBox = h("div");
  const noticesBox = h("div");
  if (admin) ctx.root.append(section("Guardian", guardianBox));
  ctx.root.append(
    section(admin ? "Pulse users" : "Your Pulse users", usersBox, newUserForm(ctx, () => refresh())),
    section(admin ? "Recent notices" : "The guardian's notices about your users", noticesBox),
    section("Thresholds", thresholdsBox));

  async function refresh() {
    const [users, g] = await Promise.all([api.get("/pulse/users"), guardianState()]);
    const [owners, unbounded, notices] = g ? await Promise.all([
      api.get("/pulse/guardian/owners"), api.get("/pulse/guardian/unbounded"),
      api.get("/pulse/guardian/notices")]) : [{}, [], []];
    if (ctx.stale()) return;
    const mine = admin ? users.filter((u) => (u.owners || []).includes(me.name)) : users;
    usersBox.replaceChildren(listTable(admin ? "Every Pulse user" : "Your Pulse users", [
      { label: "Name", value: (u) => link(u.name, "pulse", "users", u.name) },
      { label: "Description", value: (u) => u.description || "" },
      admin ? { label: "Owners", value: (u) => (u.owners || []).map((o, i) => [i ? ", " : "", link(o, "pulse", "owners", o)]) } : null,
      { label: "Queues", cls: "num", value: (u) => num(u.queue_count) },
      { label: "Created", value: (u) => when(u.created) },
    ].filter(Boolean), users, (u) => u.name));
    if (!g) {
      const off = h("p", { class: "muted" }, "The guardian is not running: no notices, no thresholds.");
      noticesBox.replaceChildren(off);
      thresholdsBox.replaceChildren(off.cloneNode(true));
      guardianBox.replaceChildren(off.cloneNode(true));
      return;
    }
    const s = g.settings;
    const recent = notices.slice(-RECENT);
    noticesBox.replaceChildren(...[noticesTable(admin ? `The last ${RECENT} notices` : "Notices", recent),
      admin ? h("p", null, h("a", { href: href("pulse", "guardian") }, "Every notice, by owner")) : null].filter(Boolean));
    const names = (admin ? mine : users).map((u) => u.name);
    thresholdsBox.replaceChildren(
      h("p", null, `Every queue is warned about over ${num(s.warn_queue_size)} messages and deleted over ${num(s.delete_queue_size)}` +
        (s.idle_queue_expiry ? `, or after ${num(s.idle_queue_expiry)} s without a consumer` : "") +
        (s.max_connection_age ? `; connections are closed after ${num(s.max_connection_age)} s` : "") +
        ", unless set otherwise below."),
      names.length ? thresholdsOf(names, g, owners, unbounded) : h("p", { class: "muted" }, "You have no Pulse user yet."));
    if (admin) {
      const st = g.stats || {};
      guardianBox.replaceChildren(
        h("div", { class: "cards", role: "group", "aria-label": "Guardian statistics" },
          [["Enabled", yesno(g.enabled)], ["Interval", `${num(s.interval)} s`], ["Polls", num(st.polls)],
            ["Failed polls", num(st.failed_polls)], ["Queues deleted", num(st.queues_deleted)],
            ["Notices", num(st.notices)]].map(([k, v]) =>
            h("div", { class: "card" }, h("span", { class: "k" }, k), h("span", { class: "v" }, v)))),
        facts([["Thresholds", `warning over ${num(s.warn_queue_size)}, deletion over ${num(s.delete_queue_size)} messages`],
          ["Per-owner thresholds", String(Object.keys(owners).length)],
          ["Unbounded queues", String(unbounded.length)],
          ["Settings", link("Change the guardian's settings", "pulse", "guardian")]]));
    }
  }
  await refresh();
  ctx.every(refresh);
}
