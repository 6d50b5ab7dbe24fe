// The live inspector: bindings (kept in the address's hash), a STOMP connection to Web-STOMP
// on this origin, and the list of what arrived.
//
// Server side, each binding is one SUBSCRIBE to /exchange/<x>/<pattern>: Web-STOMP (pulsed's and
// RabbitMQ's alike) declares a temporary auto-delete queue for it (exclusive: the frame asks), bound to the
// exchange, gone when the page goes. The frame's x-max-length (50) caps that queue (the oldest
// dropped first) and ack "client-individual" with prefetch-count 10 keeps at most 10 messages in
// flight: a slow or paused browser holds at most 60 messages per binding on the broker.
import { StompClient, exchangeDestination, parseDestination, sameOriginWsUrl } from "./stomp.js";

const MAX_LENGTH = 50;
const PREFETCH = 10;
const KEEP = 2000; // messages kept on the page; the oldest go first

const $ = (id) => document.getElementById(id);
const state = {
  creds: null,        // {user, password, vhost}: in memory only, never stored or in the address
  client: null,
  bindings: [],       // [{exchange, pattern, sub}]
  messages: [],       // [{exchange, routingKey, receivedAt, headers, body, payload, el}]
  held: [],           // [{binding, msg}] arrived while paused, acknowledged on resume
  paused: false,
};

// ---- the address: #vhost=/&e=<exchange>&k=<pattern>&e=...&k=...
// The Web-STOMP URL is deliberately not part of it: a shared link must never be able to send
// the password typed here to another server.
function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  const ex = p.getAll("e"), keys = p.getAll("k");
  return { vhost: p.get("vhost"), bindings: ex.map((e, i) => ({ exchange: e, pattern: keys[i] || "#" })) };
}

function writeHash() {
  const p = new URLSearchParams();
  p.set("vhost", state.creds ? state.creds.vhost : readHash().vhost || "/");
  for (const b of state.bindings) { p.append("e", b.exchange); p.append("k", b.pattern); }
  history.replaceState(null, "", "#" + p.toString());
}

// ---- sign in
function authHeader(c) {
  const bytes = new TextEncoder().encode(c.user + ":" + c.password);
  return "Basic " + btoa(String.fromCharCode(...bytes));
}

function setStatus(text, cls = "") {
  $("status").textContent = text;
  $("status").className = "status " + cls;
}

async function listExchanges(c) {
  const r = await fetch("/api/exchanges/" + encodeURIComponent(c.vhost) + "?columns=name,type",
    { headers: { authorization: authHeader(c), "x-requested-with": "pulse-inspector" } });
  if (!r.ok) {
    let why = r.status + "";
    try { why = (await r.json()).reason || why; } catch { /* an empty body */ }
    throw new Error(why);
  }
  return (await r.json()).map((x) => x.name).filter((n) => n && !n.startsWith("amq.")).sort();
}

async function signIn(c) {
  setStatus("connecting…");
  const client = new StompClient(c.ws || sameOriginWsUrl(), { login: c.user, passcode: c.password, host: c.vhost });
  await client.connect(); // throws with the broker's ERROR text (wrong password, no vhost access)
  state.creds = c;
  state.client = client;
  sessionStorage.setItem("pulse-inspector-user", c.user); // the password is never stored
  client.onclose = (why) => {
    setStatus("disconnected: " + why + " (sign in again)", "down");
    for (const b of state.bindings) b.sub = null;
    renderBindings();
  };
  client.onerror = (why) => setStatus("broker error: " + why, "down");
  setStatus(`signed in as ${c.user} on vhost ${c.vhost}`, "live");
  $("signin").hidden = true;
  $("workspace").hidden = false;
  writeHash();
  try {
    const names = await listExchanges(c);
    $("exchange-list").replaceChildren(...names.map((n) => Object.assign(document.createElement("option"), { value: n })));
    $("exchange-note").textContent = names.length ? `${names.length} exchanges: pick one or type its name.` : "No exchanges yet: type a name.";
  } catch (e) {
    $("exchange-note").textContent = `The exchange list is unavailable (${e.message}): type an exchange name.`;
  }
  for (const b of state.bindings) subscribe(b);
  renderBindings();
}

function signOut() {
  state.client?.disconnect();
  state.client = null;
  state.creds = null;
  for (const b of state.bindings) b.sub = null;
  $("workspace").hidden = true;
  $("signin").hidden = false;
  $("password").value = "";
  setStatus("signed out");
}

// ---- bindings
function subscribe(b) {
  if (!state.client?.connected) return;
  b.sub = state.client.subscribe(exchangeDestination(b.exchange, b.pattern), {
    ack: "client-individual",
    "prefetch-count": String(PREFETCH),
    "x-max-length": String(MAX_LENGTH),
    exclusive: "true", // only this connection may consume it (RabbitMQ 3.10 declares it non-exclusive otherwise)
  }, (msg) => onMessage(b, msg));
}

function addBinding(exchange, pattern) {
  if (state.bindings.some((b) => b.exchange === exchange && b.pattern === pattern)) return;
  const b = { exchange, pattern, sub: null };
  state.bindings.push(b);
  subscribe(b);
  writeHash();
  renderBindings();
}

function removeBinding(b) {
  if (b.sub) state.client?.unsubscribe(b.sub);
  state.bindings = state.bindings.filter((x) => x !== b);
  writeHash();
  renderBindings();
}

function renderBindings() {
  $("binding-list").replaceChildren(...state.bindings.map((b) => {
    const li = document.createElement("li");
    li.textContent = `${b.exchange} ← ${b.pattern}`;
    li.dataset.exchange = b.exchange;
    li.dataset.pattern = b.pattern;
    const x = Object.assign(document.createElement("button"), { type: "button", textContent: "×", title: "Remove this binding" });
    x.setAttribute("aria-label", `Remove binding ${b.exchange} ${b.pattern}`);
    x.onclick = () => removeBinding(b);
    li.append(x);
    return li;
  }));
}

// ---- messages
function onMessage(binding, msg) {
  if (state.paused) { state.held.push({ binding, msg }); updateCounts(); return; }
  show(binding, msg);
  state.client.ack(msg);
}

function show(binding, msg) {
  const { exchange, routingKey } = parseDestination(msg.headers.destination);
  const json = msg.json();
  const m = {
    exchange: exchange || binding.exchange,
    routingKey,
    receivedAt: new Date().toISOString(),
    headers: msg.headers,
    body: json === undefined ? msg.body : json,
  };
  m.el = render(m, json);
  m.text = (m.exchange + " " + m.routingKey + " " + msg.body).toLowerCase();
  state.messages.push(m);
  applyFilter(m);
  $("message-list").prepend(m.el);
  while (state.messages.length > KEEP) state.messages.shift().el.remove();
  updateCounts();
}

function render(m, json) {
  const li = document.createElement("li");
  li.className = "message";
  const meta = document.createElement("div");
  meta.className = "meta";
  for (const [cls, text] of [["time", m.receivedAt.replace("T", " ").replace("Z", " UTC")],
    ["exchange", m.exchange], ["key", m.routingKey || "(empty key)"]]) {
    meta.append(Object.assign(document.createElement("span"), { className: cls, textContent: text }));
  }
  li.append(meta);
  // A Pulse envelope ({payload, _meta}) shows its payload first, the envelope's _meta folded.
  const envelope = json && typeof json === "object" && "payload" in json && "_meta" in json;
  if (envelope && json._meta?.sent) {
    meta.append(Object.assign(document.createElement("span"), { className: "sent", textContent: "sent " + json._meta.sent }));
  }
  li.append(Object.assign(document.createElement("pre"), {
    className: "payload",
    textContent: json === undefined ? m.body : JSON.stringify(envelope ? json.payload : json, null, 2),
  }));
  const more = document.createElement("details");
  more.append(Object.assign(document.createElement("summary"), { textContent: envelope ? "envelope _meta and headers" : "headers" }));
  more.append(Object.assign(document.createElement("pre"), {
    textContent: JSON.stringify(envelope ? { _meta: json._meta, headers: m.headers } : m.headers, null, 2),
  }));
  li.append(more);
  return li;
}

function applyFilter(m) {
  const f = $("filter").value.trim().toLowerCase();
  m.el.hidden = f !== "" && !m.text.includes(f);
}

function updateCounts() {
  const shown = state.messages.filter((m) => !m.el.hidden).length;
  let t = `${state.messages.length} messages`;
  if (shown !== state.messages.length) t += `, ${shown} shown`;
  if (state.paused) t += `, paused (${state.held.length} waiting)`;
  $("counts").textContent = t;
}

function togglePause() {
  state.paused = !state.paused;
  $("pause").textContent = state.paused ? "Resume" : "Pause";
  $("pause").setAttribute("aria-pressed", String(state.paused));
  if (!state.paused) {
    const held = state.held;
    state.held = [];
    for (const { binding, msg } of held) { show(binding, msg); state.client?.ack(msg); }
  }
  updateCounts();
}

function download() {
  const data = state.messages.map(({ exchange, routingKey, receivedAt, headers, body }) =>
    ({ exchange, routingKey, receivedAt, headers, body }));
  const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
  const a = Object.assign(document.createElement("a"), { href: url, download: `pulse-inspector-${new Date().toISOString().replace(/[:.]/g, "-")}.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// ---- wiring
function init() {
  const fromHash = readHash();
  if (fromHash.vhost) $("vhost").value = fromHash.vhost;
  state.bindings = fromHash.bindings.map((b) => ({ ...b, sub: null }));
  renderBindings();
  $("signin-form").onsubmit = async (ev) => {
    ev.preventDefault();
    $("signin-error").hidden = true;
    $("signin-button").disabled = true;
    try {
      await signIn({ user: $("user").value, password: $("password").value, vhost: $("vhost").value || "/", ws: $("ws-url").value.trim() });
    } catch (e) {
      setStatus("signed out");
      $("signin-error").textContent = "Sign-in failed: " + e.message;
      $("signin-error").hidden = false;
    } finally {
      $("signin-button").disabled = false;
    }
  };
  $("binding-form").onsubmit = (ev) => {
    ev.preventDefault();
    const exchange = $("exchange").value.trim(), pattern = $("pattern").value.trim() || "#";
    if (exchange) addBinding(exchange, pattern);
  };
  $("signout").onclick = signOut;
  $("pause").onclick = togglePause;
  $("clear").onclick = () => {
    for (const m of state.messages) m.el.remove();
    state.messages = [];
    updateCounts();
  };
  $("filter").oninput = () => { for (const m of state.messages) applyFilter(m); updateCounts(); };
  $("download").onclick = download;
  window.addEventListener("hashchange", () => {
    // A pasted link: follow its bindings.
    const want = readHash().bindings;
    for (const b of [...state.bindings]) {
      if (!want.some((w) => w.exchange === b.exchange && w.pattern === b.pattern)) removeBinding(b);
    }
    for (const w of want) addBinding(w.exchange, w.pattern);
  });
  $("user").value = sessionStorage.getItem("pulse-inspector-user") || "";
  ($("user").value ? $("password") : $("user")).focus();
  updateCounts();
}

init();
