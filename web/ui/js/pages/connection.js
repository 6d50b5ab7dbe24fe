// One connection: where it comes from, how it was negotiated (TLS, authentication, frame max,
// heartbeat), the client's properties and capabilities, its channels and traffic, and closing
// it with a reason the client receives (DELETE with X-Reason, as RabbitMQ's UI sends it).
import { api, path } from "../api.js";
import { act, ask, toast } from "../dialog.js";
import { facts, field, h, href, kv, num, section, show, yesno } from "../dom.js";
import { listTable } from "../table.js";
import { byteRate, clientOf, when } from "./connections.js";
import { channelColumns } from "./channels.js";

const DEFAULT_REASON = "Closed via management plugin";

function hostPort(host, port) {
  if (!host) return "";
  return (String(host).includes(":") ? `[${host}]` : host) + (port ? ":" + port : "");
}

export async function render(ctx) {
  const { name } = ctx.params;
  ctx.title(`Connection ${name}`);
  const c0 = await api.get(path`/connections/${name}`);
  if (ctx.stale()) return;

  const overview = h("div");
  const tls = h("div");
  const props = h("div");
  const chans = h("div");
  const traffic = h("div", { class: "cards", role: "group", "aria-label": "Traffic" });
  const close = h("button", { type: "button", class: "danger" }, "Close connection");
  close.addEventListener("click", () => closeDialog(ctx, name, c0.user));

  ctx.root.append(
    h("h1", null, "Connection ", h("span", { class: "sub" }, name)),
    traffic,
    h("div", { class: "grid2" }, section("Overview", overview), section("Security", tls)),
    section("Client properties", props),
    section("Channels", chans),
    section("Close this connection",
      h("p", { class: "note" }, "The client receives connection.close with code 320 (CONNECTION_FORCED) and your reason."),
      h("div", { class: "actions" }, close)));

  function showConn(c) {
    overview.replaceChildren(facts([
      ["User", c.user],
      ["Virtual host", c.vhost],
      ["State", c.state],
      ["Protocol", c.protocol],
      ["Client", clientOf(c)],
      ["Peer", hostPort(c.peer_host, c.peer_port)],
      ["Local address", hostPort(c.host, c.port)],
      ["Node", c.node],
      ["Connected at", when(c.connected_at)],
      ["Channels", num(c.channels)],
      ["Channel max", num(c.channel_max)],
      ["Frame max", c.frame_max !== undefined ? num(c.frame_max) + " bytes" : ""],
      ["Heartbeat", c.timeout ? c.timeout + " s" : "disabled"],
    ]));
    tls.replaceChildren(facts([
      ["Authentication", c.auth_mechanism],
      ["TLS", yesno(c.ssl)],
      c.ssl ? ["TLS protocol", c.ssl_protocol] : null,
      c.ssl ? ["Cipher", [c.ssl_key_exchange, c.ssl_cipher, c.ssl_hash].filter(Boolean).join(" / ")] : null,
      c.peer_cert_subject ? ["Client certificate", c.peer_cert_subject] : null,
      c.peer_cert_issuer ? ["Issuer", c.peer_cert_issuer] : null,
      c.peer_cert_validity ? ["Validity", show(c.peer_cert_validity)] : null,
    ]));
    const cp = { ...(c.client_properties || {}) };
    const caps = cp.capabilities;
    delete cp.capabilities;
    // Through h(): replaceChildren would write a null as text.
    props.replaceChildren(h("div", null, kv(cp),
      caps && typeof caps === "object" ? [h("h3", null, "Capabilities"), kv(caps)] : null));
    traffic.replaceChildren(...[["From client", byteRate(c.recv_oct_details)], ["To client", byteRate(c.send_oct_details)],
      ["Received", c.recv_oct !== undefined ? num(c.recv_oct) + " B" : ""], ["Sent", c.send_oct !== undefined ? num(c.send_oct) + " B" : ""]]
      .map(([k, v]) => h("div", { class: "card" }, h("span", { class: "k" }, k), h("span", { class: "v" }, v || "–"))));
  }

  async function refresh() {
    const [c, list] = await Promise.all([
      api.get(path`/connections/${name}`),
      api.get(path`/connections/${name}/channels`).catch(() => []),
    ]);
    if (ctx.stale()) return;
    showConn(c);
    chans.replaceChildren(listTable("Channels of this connection", channelColumns({ withUser: false }), list, (ch) => ch.name));
  }

  showConn(c0);
  await refresh();
  ctx.every(refresh);
}

async function closeDialog(ctx, name, user) {
  const reason = h("input", { name: "reason", value: DEFAULT_REASON, autocomplete: "off", size: 40 });
  const form = await ask({
    title: "Close connection",
    body: h("p", null, "Close connection ", h("strong", null, name), " of user ", h("strong", null, user), "?"),
    fields: [field("Reason", reason, "Sent to the client in connection.close.")],
    confirm: "Close connection", danger: true,
  });
  if (!form) return;
  const text = reason.value.trim() || DEFAULT_REASON;
  // It travels in an HTTP header, which carries printable ASCII only.
  if (!/^[\x20-\x7e]*$/.test(text)) {
    toast("The reason must be printable ASCII text (it is sent in the X-Reason header).", "error");
    return;
  }
  const ok = await act(() => api.del(path`/connections/${name}`, undefined, { headers: { "X-Reason": text } }),
    `Connection ${name} closed.`);
  if (ok !== null) ctx.go("#/connections");
}
