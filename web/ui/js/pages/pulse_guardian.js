// #/pulse/guardian: the guardian's settings in force and what the API set over the
// configuration (administrators change or clear them), per-owner thresholds, unbounded queues
// and the notices with an owner filter. Owners see the same, without the controls.
import { ApiError, api, path } from "../api.js";
import { act } from "../dialog.js";
import { facts, field, h, link, num, section, yesno } from "../dom.js";
import { listTable } from "../table.js";
import { guardianState, noticesTable } from "../pulse_ui.js";

const SCALARS = [
  ["interval", "Interval", "seconds between polls", "s"],
  ["warn_queue_size", "Warning threshold", "messages", "messages"],
  ["delete_queue_size", "Deletion threshold", "messages", "messages"],
  ["idle_queue_expiry", "Idle queue expiry", "seconds without a consumer; 0: off", "s"],
  ["max_connection_age", "Maximum connection age", "seconds; 0: off", "s"],
];

function settingsForm(g, done) {
  const inputs = {};
  const rows = SCALARS.map(([key, label, unit]) => {
    const ov = g.overrides[key];
    inputs[key] = h("input", { name: key, type: "number", min: 0, step: 1, value: ov ?? "", placeholder: String(g.settings[key]) });
    const clear = h("button", { type: "button", class: "secondary", "aria-label": `Clear ${label}`, disabled: ov === null || ov === undefined,
      onclick: async () => { if (await act(() => api.put("/pulse/guardian", { [key]: null }), `${label}: back to the configured value`)) done(); } }, "Clear");
    return h("div", { class: "setting" }, field(label, inputs[key], `${unit}; empty: the configured value`), clear);
  });
  const form = h("form", { "aria-label": "Guardian settings" }, h("div", { class: "settings-grid" }, rows),
    h("button", { type: "submit" }, "Save settings"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = {};
    for (const [key] of SCALARS) {
      const v = inputs[key].value.trim();
      const ov = g.overrides[key];
      if (v === "" && (ov === null || ov === undefined)) continue;
      body[key] = v === "" ? null : Number(v);
    }
    if (await act(() => api.put("/pulse/guardian", body), "Guardian settings saved")) done();
  });
  return form;
}

export async function render(ctx) {
  ctx.title("Pulse guardian");
  const admin = !!ctx.pulse?.admin;
  const filter = ctx.query.get("owner") || "";
  ctx.root.append(h("h1", null, "Guardian", h("span", { class: "sub" }, link("Pulse", "pulse"))));
  const g0 = await guardianState();
  if (ctx.stale()) return;
  if (!g0) {
    ctx.root.append(h("p", { class: "panel", role: "status" }, "The guardian is not running."));
    return;
  }
  const inForce = h("div");
  const formBox = h("div");
  const ownersBox = h("div");
  const unboundedBox = h("div");
  const noticesBox = h("div");
  ctx.root.append(section("Settings in force", inForce));
  if (admin) ctx.root.append(section("Change settings", formBox));
  ctx.root.append(section("Per-owner thresholds", ownersBox), section("Unbounded queues", unboundedBox));

  if (admin) {
    const owner = h("input", { name: "owner", required: true, autocomplete: "off" });
    const warn = h("input", { name: "warn", type: "number", min: 1 });
    const del = h("input", { name: "delete", type: "number", min: 1 });
    const f = h("form", { class: "inline", "aria-label": "Set owner thresholds" },
      field("Owner", owner, "the <owner> of queue/<owner>/..."), field("Warn over", warn), field("Delete over", del),
      h("button", { type: "submit" }, "Set thresholds"));
    f.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = {};
      if (warn.value) body.warn_queue_size = Number(warn.value);
      if (del.value) body.delete_queue_size = Number(del.value);
      if (await act(() => api.put(path`/pulse/guardian/owners/${owner.value}`, body), `Thresholds of ${owner.value} set`)) { f.reset(); refresh(); }
    });
    ownersBox.after(f);
    const vhost = h("input", { name: "vhost", required: true, value: "/" });
    const queue = h("input", { name: "queue", required: true, autocomplete: "off" });
    const u = h("form", { class: "inline", "aria-label": "Mark a queue unbounded" },
      field("Vhost", vhost), field("Queue", queue), h("button", { type: "submit" }, "Mark unbounded"));
    u.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (await act(() => api.put(path`/pulse/guardian/unbounded/${vhost.value}/${queue.value}`), `${queue.value} marked unbounded`)) { queue.value = ""; refresh(); }
    });
    unboundedBox.after(u);
  }

  const ownerFilter = h("input", { type: "search", name: "owner", value: filter, placeholder: "any owner" });
  const fform = h("form", { class: "inline", "aria-label": "Filter notices" }, field("Owner", ownerFilter), h("button", { type: "submit", class: "secondary" }, "Filter"));
  fform.addEventListener("submit", (e) => {
    e.preventDefault();
    ctx.replaceQuery(ownerFilter.value ? { owner: ownerFilter.value } : {});
    refresh();
  });
  ctx.root.append(section("Notices", fform, noticesBox));

  let shownForm = null;
  async function refresh() {
    const owner = ownerFilter.value.trim();
    const [g, owners, unbounded, notices, users] = await Promise.all([guardianState(), api.get("/pulse/guardian/owners"),
      api.get("/pulse/guardian/unbounded"), api.get("/pulse/guardian/notices", owner ? { owner } : undefined),
      admin ? null : api.get("/pulse/users")]);
    if (ctx.stale() || !g) return;
    // An owner reads what concerns its own Pulse users (the API lists every owner's).
    const mine = admin ? null : new Set(users.map((u) => u.name));
    const ours = (owner) => !mine || mine.has(owner);
    const s = g.settings;
    const st = g.stats || {};
    inForce.replaceChildren(
      facts([["Enabled", yesno(g.enabled)],
        ...SCALARS.map(([key, label, , unit]) => [label, [`${num(s[key])} ${unit} `, g.overrides[key] !== null && g.overrides[key] !== undefined
          ? h("span", { class: "badge" }, "set here") : h("span", { class: "muted" }, " (configured)")]]),
        ["Polls", `${num(st.polls)} (${num(st.failed_polls)} failed)`],
        ["Done", `${num(st.queues_deleted)} queues deleted, ${num(st.connections_closed)} connections closed, ${num(st.notices)} notices`]]));
    // The form is rebuilt only when what the API set changed, so a refresh never wipes typing.
    const key = JSON.stringify(g.overrides);
    if (admin && key !== shownForm) { shownForm = key; formBox.replaceChildren(settingsForm(g, refresh)); }
    const apiOwners = g.overrides.owners || {};
    ownersBox.replaceChildren(listTable("Per-owner thresholds", [
      { label: "Owner", value: ([o]) => o },
      { label: "Warn over", cls: "num", value: ([, t]) => num(t.warn_queue_size ?? s.warn_queue_size) },
      { label: "Delete over", cls: "num", value: ([, t]) => num(t.delete_queue_size ?? s.delete_queue_size) },
      { label: "Set by", value: ([o]) => apiOwners[o] ? "the API" : "the configuration" },
      admin ? { label: "Actions", value: ([o]) => apiOwners[o] ? h("button", { type: "button", class: "secondary", "aria-label": `Clear thresholds of ${o}`,
        onclick: async () => { if (await act(() => api.del(path`/pulse/guardian/owners/${o}`), `Thresholds of ${o} cleared`)) refresh(); } }, "Clear") : "" } : null,
    ].filter(Boolean), Object.entries(owners).filter(([o]) => ours(o)), ([o]) => o));
    unboundedBox.replaceChildren(listTable("Unbounded queues", [
      { label: "Queue", value: (f) => f.queue },
      { label: "Vhost", value: (f) => f.vhost },
      { label: "Set by", value: (f) => f.set_by === "api" ? "the API" : "the configuration" },
      admin ? { label: "Actions", value: (f) => f.set_by === "api" ? h("button", { type: "button", class: "secondary", "aria-label": `Remove unbounded flag of ${f.queue}`,
        onclick: async () => { if (await act(() => api.del(path`/pulse/guardian/unbounded/${f.vhost}/${f.queue}`), `${f.queue} is bounded again`)) refresh(); } }, "Remove") : "" } : null,
    ].filter(Boolean), unbounded.filter((f) => ours(/^queue\/([^/]+)\//.exec(f.queue)?.[1])), (f) => f.vhost + "/" + f.queue));
    noticesBox.replaceChildren(noticesTable(owner ? `Notices about ${owner}` : (admin ? "Every notice" : "Notices about your users"), notices.slice(-200)));
  }
  try {
    await refresh();
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    ctx.root.append(h("p", { class: "error", role: "alert" }, e.message));
  }
  ctx.every(refresh);
}
