// The admin UI's shell: sign-in, the navigation (what a user's tags allow), the hash router and
// the 5 s refresh of the page on show. Pages are modules in pages/ loaded on first visit; each
// exports `render(ctx)` (see README.md).
import { ApiError, api, basicAuth, setAuthorization, whenUnauthorized } from "./api.js";
import { h } from "./dom.js";
import { toast } from "./dialog.js";

const KEY = "pulse.ui.auth";
const REFRESH_MS = 5000;
const $ = (id) => document.getElementById(id);

// Route patterns as RabbitMQ's UI has them (#/queues/<vhost>/<name>), plus Pulse's.
const ROUTES = [
  ["", "overview"],
  ["connections", "connections"], ["connections/:name", "connection"],
  ["channels", "channels"], ["channels/:name", "channel"],
  ["exchanges", "exchanges"], ["exchanges/:vhost", "exchanges"], ["exchanges/:vhost/:name", "exchange"],
  ["queues", "queues"], ["queues/:vhost", "queues"], ["queues/:vhost/:name", "queue"],
  ["users", "users"], ["users/:name", "user"],
  ["vhosts", "vhosts"], ["vhosts/:name", "vhost"],
  ["policies", "policies"], ["policies/:vhost/:name", "policy"],
  ["limits", "limits"], ["definitions", "definitions"],
  ["pulse", "pulse"], ["pulse/owners", "pulse_owners"], ["pulse/owners/:email", "pulse_owner"],
  ["pulse/users/:name", "pulse_user"], ["pulse/guardian", "pulse_guardian"],
  ["pulse/namespaces", "pulse_namespaces"], ["pulse/subscriptions", "pulse_subscriptions"],
];

export const session = { user: null, pulse: null };

export function hasTag(...tags) {
  const mine = session.user?.tags || [];
  return tags.some((t) => mine.includes(t));
}
export const isAdmin = () => hasTag("administrator");
export const isPulseOwner = () => !!session.pulse?.owner;
export const isPulseAdmin = () => !!session.pulse?.admin;

function tagsOf(who) {
  const t = who.tags;
  return Array.isArray(t) ? t : String(t || "").split(",").map((x) => x.trim()).filter(Boolean);
}

function navItems() {
  const mgmt = hasTag("administrator", "monitoring", "policymaker", "management");
  const items = [];
  // An owner made by Pulse has tag management and no vhost: its pages are Pulse's.
  const plainOwner = isPulseOwner() && !hasTag("administrator", "monitoring", "policymaker");
  if (mgmt && !plainOwner) items.push(["Overview", "#/"], ["Connections", "#/connections"], ["Channels", "#/channels"],
    ["Exchanges", "#/exchanges"], ["Queues", "#/queues"]);
  if (isAdmin()) items.push(["Users", "#/users"], ["Virtual hosts", "#/vhosts"]);
  if (hasTag("administrator", "policymaker")) items.push(["Policies", "#/policies"]);
  if (isAdmin()) items.push(["Limits", "#/limits"], ["Definitions", "#/definitions"]);
  if (session.pulse) items.push(["Pulse", "#/pulse"]);
  items.push(["Inspector", "/inspector/"]);
  return items;
}

function renderNav(current) {
  $("nav").replaceChildren(h("ul", null, navItems().map(([label, to]) => {
    const active = to.startsWith("#/") && (to === "#/" ? current === "" : current === to.slice(2) || current.startsWith(to.slice(2) + "/"));
    return h("li", null, h("a", { href: to, "aria-current": active ? "page" : undefined }, label));
  })));
}

function match(hashPath) {
  const parts = hashPath.split("/").filter((p, i) => p !== "" || i > 0);
  for (const [pattern, page] of ROUTES) {
    const pp = pattern === "" ? [] : pattern.split("/");
    if (pp.length !== parts.length) continue;
    const params = {};
    let ok = true;
    pp.forEach((seg, i) => {
      if (seg.startsWith(":")) {
        try { params[seg.slice(1)] = decodeURIComponent(parts[i]); } catch { ok = false; }
      } else if (seg !== parts[i]) ok = false;
    });
    if (ok) return { page, params };
  }
  return null;
}

let timer = null;
let generation = 0;

async function route() {
  if (!session.user) return;
  clearInterval(timer);
  const gen = ++generation;
  const raw = location.hash.replace(/^#\/?/, "");
  const [hashPath, qs] = raw.split("?");
  const root = $("page");
  let m = match(hashPath || "");
  if (m && m.page === "overview" && isPulseOwner() && !hasTag("administrator", "monitoring", "policymaker"))
    m = { page: "pulse", params: {} };
  renderNav(m ? (m.page === "pulse" && hashPath === "" ? "pulse" : hashPath) : hashPath);
  if (!m) {
    root.replaceChildren(h("h1", null, "Not found"), h("p", null, "No page at ", h("code", null, location.hash), "."));
    return;
  }
  const query = new URLSearchParams(qs || "");
  const refreshers = [];
  const ctx = {
    root, params: m.params, query,
    user: session.user, pulse: session.pulse,
    title(t) { document.title = t + " · Pulse"; },
    // Called every 5 s while this page shows and the tab is visible.
    every(fn) { refreshers.push(fn); },
    // Writes the page's state to the address without a new history entry or a re-render.
    replaceQuery(obj) {
      const q = new URLSearchParams(obj).toString();
      history.replaceState(null, "", "#/" + hashPath + (q ? "?" + q : ""));
    },
    go(hash) { location.hash = hash; },
    stale: () => gen !== generation,
  };
  root.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  try {
    const mod = await import(`./pages/${m.page}.js`);
    if (gen !== generation) return;
    root.replaceChildren();
    await mod.render(ctx);
  } catch (e) {
    if (gen !== generation) return;
    root.replaceChildren(h("h1", null, e instanceof ApiError && e.status === 404 ? "Not found" : "Could not load this page"),
      h("p", { class: "error", role: "alert" }, e.message || String(e)));
    return;
  }
  if (gen !== generation) return;
  timer = setInterval(() => {
    if (document.hidden || gen !== generation) return;
    for (const fn of refreshers) Promise.resolve().then(fn).catch((e) => console.warn("refresh failed:", e.message));
  }, REFRESH_MS);
}

async function signIn(authorization) {
  setAuthorization(authorization);
  const who = await api.get("/whoami");
  session.user = { name: who.name, tags: tagsOf(who) };
  try {
    session.pulse = await api.get("/pulse/whoami");
  } catch {
    session.pulse = null;  // a RabbitMQ node without pulse-guardian in front: no Pulse pages
  }
  sessionStorage.setItem(KEY, authorization);
  $("who-name").textContent = session.user.name;
  $("signin").hidden = true;
  $("top").hidden = false;
  await route();
}

function signOut(reason) {
  sessionStorage.removeItem(KEY);
  setAuthorization(null);
  session.user = null;
  session.pulse = null;
  clearInterval(timer);
  generation++;
  $("top").hidden = true;
  $("page").replaceChildren();
  $("signin").hidden = false;
  const err = $("signin-error");
  err.hidden = !reason;
  err.textContent = reason || "";
  document.title = "Sign in · Pulse";
  $("signin-password").value = "";
  $("signin-user").focus();
}

$("signin-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const err = $("signin-error");
  err.hidden = true;
  try {
    await signIn(basicAuth($("signin-user").value, $("signin-password").value));
    // The form that had the focus is gone: the page's content takes it (main has tabindex -1).
    $("page").focus();
  } catch (ex) {
    setAuthorization(null);
    err.hidden = false;
    err.textContent = "Sign-in failed: " + (ex.message || ex);
  }
});
$("signout").addEventListener("click", () => signOut());
// RabbitMQ answers 401 both to a login it refuses and to a tag the user lacks ("Not monitor
// user" from /api/nodes for a policymaker): only a login that whoami refuses signs out.
whenUnauthorized(async (reason) => {
  if (!session.user) return;
  const r = await fetch("/api/whoami", { headers: { authorization: sessionStorage.getItem(KEY) || "", "x-requested-with": "pulse-ui" },
    credentials: "omit", cache: "no-store" }).catch(() => null);
  if (session.user && r && r.status === 401) signOut("Signed out: " + (reason || "the server refused the login"));
});
window.addEventListener("hashchange", route);

const saved = sessionStorage.getItem(KEY);
if (saved) signIn(saved).catch(() => signOut());
else signOut();
export { toast };
