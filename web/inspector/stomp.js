// A small STOMP 1.2 client over WebSocket (Web-STOMP: pulsed's /ws, RabbitMQ's rabbitmq_web_stomp).
// No dependencies: the inspector and the browser example load it as an ES module.
//
//   const c = new StompClient("ws://host:15672/ws", {login, passcode, host: "/"});
//   await c.connect();
//   c.subscribe("/exchange/exchange%2Fpulse%2Ftest/#", {}, (msg) => console.log(msg.json()));

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function escapeHeader(v) {
  return String(v).replace(/\\/g, "\\\\").replace(/\r/g, "\\r").replace(/\n/g, "\\n").replace(/:/g, "\\c");
}

function unescapeHeader(v) {
  return v.replace(/\\(.)/g, (_, c) => ({ n: "\n", r: "\r", c: ":", "\\": "\\" })[c] ?? c);
}

// A destination for an exchange and a routing pattern, as Web-STOMP parses it: a '/' (or '%')
// inside the exchange name is percent-encoded (Pulse exchanges are named exchange/<owner>/...).
export function exchangeDestination(exchange, pattern) {
  const enc = (s) => s.replace(/%/g, "%25").replace(/\//g, "%2F");
  return "/exchange/" + enc(exchange) + (pattern ? "/" + pattern : "");
}

// The (exchange, routing key) of a MESSAGE's destination header ("/exchange/<x>/<key>").
export function parseDestination(dest) {
  const m = /^\/exchange\/([^/]*)(?:\/(.*))?$/.exec(dest || "");
  if (!m) return { exchange: "", routingKey: dest || "" };
  const dec = (s) => {
    try { return decodeURIComponent(s); } catch { return s; }
  };
  return { exchange: dec(m[1]), routingKey: m[2] === undefined ? "" : dec(m[2]) };
}

export class StompMessage {
  constructor(headers, bodyBytes) {
    this.headers = headers;
    this.bytes = bodyBytes;
    this.body = decoder.decode(bodyBytes);
  }
  // The body as JSON, or undefined when it is not JSON.
  json() {
    try { return JSON.parse(this.body); } catch { return undefined; }
  }
}

export class StompClient {
  constructor(url, { login = "", passcode = "", host = "/", heartbeat = 10000 } = {}) {
    this.url = url;
    this.login = login;
    this.passcode = passcode;
    this.host = host;
    this.heartbeat = heartbeat;
    this.subscriptions = new Map();
    this.nextId = 1;
    this.buffer = new Uint8Array(0);
    this.onclose = null; // (reason) => {}, once the connection is gone
    this.onerror = null; // (ERROR frame message) => {}
    this.connected = false;
  }

  connect() {
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (why) => {
        if (!settled) { settled = true; reject(new Error(why)); }
      };
      const ws = new WebSocket(this.url, ["v12.stomp", "v11.stomp", "v10.stomp"]);
      ws.binaryType = "arraybuffer";
      this.ws = ws;
      ws.onopen = () => {
        this.send("CONNECT", {
          "accept-version": "1.2,1.1,1.0",
          host: this.host,
          login: this.login,
          passcode: this.passcode,
          "heart-beat": `${this.heartbeat},${this.heartbeat}`,
        });
      };
      ws.onmessage = (ev) => {
        const bytes = typeof ev.data === "string" ? encoder.encode(ev.data) : new Uint8Array(ev.data);
        this.lastSeen = Date.now();
        for (const frame of this.parse(bytes)) {
          if (frame.command === "CONNECTED") {
            this.connected = true;
            this.version = frame.headers.version || "1.0";
            this.startHeartbeat(frame.headers["heart-beat"]);
            settled = true;
            resolve(frame.headers);
          } else if (frame.command === "MESSAGE") {
            const sub = this.subscriptions.get(frame.headers.subscription);
            if (sub) sub.callback(new StompMessage(frame.headers, frame.body));
          } else if (frame.command === "ERROR") {
            const text = frame.headers.message + (frame.body.length ? ": " + decoder.decode(frame.body) : "");
            fail(text);
            if (this.onerror) this.onerror(text);
          }
        }
      };
      ws.onerror = () => fail("cannot connect to " + this.url);
      ws.onclose = (ev) => {
        this.connected = false;
        clearInterval(this.beatTimer);
        fail(`connection closed (${ev.code}${ev.reason ? " " + ev.reason : ""})`);
        if (this.onclose) this.onclose(ev.reason || `closed (${ev.code})`);
      };
    });
  }

  startHeartbeat(serverBeat) {
    const [sx, sy] = (serverBeat || "0,0").split(",").map(Number);
    const out = this.heartbeat && sy ? Math.max(this.heartbeat, sy) : 0;
    const inn = this.heartbeat && sx ? Math.max(this.heartbeat, sx) : 0;
    if (!out && !inn) return;
    const tick = Math.min(out || inn, inn || out) / 2;
    let lastSent = Date.now();
    this.beatTimer = setInterval(() => {
      const now = Date.now();
      if (out && now - lastSent >= out) { this.ws.send("\n"); lastSent = now; }
      if (inn && now - this.lastSeen > 2 * inn) this.ws.close(4000, "no heart-beat from the server");
    }, tick);
  }

  // Frames of the bytes received so far (a WebSocket message may hold several, or heart-beats).
  *parse(bytes) {
    const joined = new Uint8Array(this.buffer.length + bytes.length);
    joined.set(this.buffer);
    joined.set(bytes, this.buffer.length);
    let pos = 0;
    for (;;) {
      while (pos < joined.length && (joined[pos] === 10 || joined[pos] === 13)) pos++;
      const headEnd = findSeq(joined, pos, [10, 10]);
      const headEndCr = findSeq(joined, pos, [13, 10, 13, 10]);
      let end = headEnd, sep = 2;
      if (headEndCr >= 0 && (headEnd < 0 || headEndCr < headEnd)) { end = headEndCr; sep = 4; }
      if (end < 0) break;
      const lines = decoder.decode(joined.subarray(pos, end)).split(/\r?\n/);
      const command = lines.shift();
      const headers = {};
      for (const line of lines) {
        const i = line.indexOf(":");
        if (i < 0) continue;
        const k = unescapeHeader(line.slice(0, i));
        if (!(k in headers)) headers[k] = unescapeHeader(line.slice(i + 1)); // the first wins
      }
      const bodyStart = end + sep;
      let bodyEnd;
      if (headers["content-length"] !== undefined) {
        bodyEnd = bodyStart + Number(headers["content-length"]);
        if (bodyEnd >= joined.length) break;
      } else {
        bodyEnd = joined.indexOf(0, bodyStart);
        if (bodyEnd < 0) break;
      }
      yield { command, headers, body: joined.slice(bodyStart, bodyEnd) };
      pos = bodyEnd + 1;
    }
    this.buffer = joined.slice(pos);
  }

  send(command, headers = {}, body = "") {
    let frame = command + "\n";
    for (const [k, v] of Object.entries(headers)) {
      frame += (command === "CONNECT" ? k : escapeHeader(k)) + ":" +
        (command === "CONNECT" ? v : escapeHeader(v)) + "\n";
    }
    this.ws.send(frame + "\n" + body + "\0");
  }

  // Returns the subscription id. `headers` go on the SUBSCRIBE frame (ack, prefetch-count,
  // queue arguments such as x-max-length).
  subscribe(destination, headers, callback) {
    const id = "sub-" + this.nextId++;
    this.subscriptions.set(id, { destination, callback });
    this.send("SUBSCRIBE", { id, destination, ack: "auto", ...headers });
    return id;
  }

  unsubscribe(id) {
    if (!this.subscriptions.delete(id)) return;
    if (this.connected) this.send("UNSUBSCRIBE", { id });
  }

  // Acknowledges one message of a subscription in client or client-individual mode.
  ack(message) {
    if (!this.connected) return;
    if (this.version === "1.2") this.send("ACK", { id: message.headers.ack });
    else this.send("ACK", { "message-id": message.headers["message-id"], subscription: message.headers.subscription });
  }

  disconnect() {
    clearInterval(this.beatTimer);
    if (this.connected) this.send("DISCONNECT", {});
    this.connected = false;
    this.ws?.close();
  }
}

function findSeq(a, from, seq) {
  outer: for (let i = from; i <= a.length - seq.length; i++) {
    for (let j = 0; j < seq.length; j++) if (a[i + j] !== seq[j]) continue outer;
    return i;
  }
  return -1;
}

// The Web-STOMP URL of the page's own origin: ws://host/ws, or wss:// under https.
export function sameOriginWsUrl(path = "/ws") {
  return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
}
