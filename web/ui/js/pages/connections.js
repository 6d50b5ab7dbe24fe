// Connections: every client connection the user may see, paged, sorted and filtered on the
// server (RabbitMQ's parameters), with the client product from its client properties.
import { h, href, num, bytes } from "../dom.js";
import { pagedTable } from "../table.js";

// "Pika Python Client Library 1.2.0" from client_properties, as RabbitMQ's UI shows a client.
export function clientOf(c) {
  const p = c.client_properties || {};
  return [p.product, p.version].filter((v) => typeof v === "string" && v).join(" ");
}
export function byteRate(details) {
  const r = details?.rate;
  return r === undefined || r === null ? "" : bytes(Math.round(r)) + "/s";
}
export function when(ms) {
  if (!ms) return "";
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toLocaleString("en-GB", { dateStyle: "short", timeStyle: "medium" });
}

export async function render(ctx) {
  ctx.title("Connections");
  const table = pagedTable({
    caption: "Connections",
    endpoint: "/connections",
    query: ctx.query, onState: (s) => ctx.replaceQuery(s), rowKey: (c) => c.name,
    columns: [
      { label: "Name", sort: "name", numeric: false, value: (c) => h("a", { href: href("connections", c.name) }, c.name) },
      { label: "User", sort: "user", numeric: false, value: (c) => c.user },
      { label: "Virtual host", sort: "vhost", numeric: false, value: (c) => c.vhost },
      { label: "Client", sort: "client_properties.product", numeric: false, value: clientOf },
      { label: "Protocol", sort: "protocol", numeric: false, value: (c) => c.protocol },
      { label: "TLS", sort: "ssl", numeric: false, value: (c) => (c.ssl ? c.ssl_protocol || "yes" : "no") },
      { label: "Channels", sort: "channels", cls: "num", value: (c) => num(c.channels) },
      { label: "State", sort: "state", numeric: false, value: (c) => h("span", { class: "state " + (c.state || "") }, c.state || "") },
      { label: "From client", sort: "recv_oct_details.rate", cls: "num", value: (c) => byteRate(c.recv_oct_details) },
      { label: "To client", sort: "send_oct_details.rate", cls: "num", value: (c) => byteRate(c.send_oct_details) },
      { label: "Connected at", sort: "connected_at", value: (c) => when(c.connected_at) },
    ],
  });
  ctx.root.append(h("h1", null, "Connections"), h("div", { class: "panel" }, table.el));
  await table.refresh();
  ctx.every(table.refresh);
}
