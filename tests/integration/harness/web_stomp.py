"""A Web-STOMP client for the tests: websocket-client (python3-websocket) carrying STOMP frames
written and read byte for byte, so tests see every WebSocket message (type, boundaries)."""
import http.client

import websocket

TIMEOUT = 10


def ws_url(port, path="/ws"):
    return "ws://127.0.0.1:%d%s" % (port, path)


class WsStomp:
    def __init__(self, port, path="/ws", subprotocols=("v12.stomp", "v11.stomp", "v10.stomp"),
                 url=None, **kw):
        self.ws = websocket.create_connection(url or ws_url(port, path), timeout=TIMEOUT,
                                              subprotocols=list(subprotocols) or None, **kw)
        self.buf = b""
        self.messages = []  # (opcode, bytes) of every data message received

    @property
    def subprotocol(self):
        return self.ws.getsubprotocol()

    def send(self, data, binary=False):
        if binary:
            self.ws.send_binary(data)
        else:
            self.ws.send(data.decode() if isinstance(data, bytes) else data)

    def recv(self):
        """The next data message as (opcode, bytes); raises on a close."""
        op, data = self.ws.recv_data(control_frame=False)
        if op == websocket.ABNF.OPCODE_CLOSE:
            raise ConnectionError("closed: %r" % data)
        self.messages.append((op, data))
        return op, data

    def frame(self):
        """The next STOMP frame as (command, [(k, v)], body), skipping heart-beat EOLs."""
        while True:
            self.buf = self.buf.lstrip(b"\r\n")
            if b"\0" in self.buf:
                raw, self.buf = self.buf.split(b"\0", 1)
                head, _, body = raw.partition(b"\n\n")
                lines = head.decode().split("\n")
                headers = [tuple(line.split(":", 1)) for line in lines[1:] if line]
                return lines[0], headers, body
            _, data = self.recv()
            self.buf += data

    def connect(self, user, password, vhost, extra=""):
        self.send("CONNECT\naccept-version:1.2\nhost:%s\nlogin:%s\npasscode:%s\n%s\n\0"
                  % (vhost, user, password, extra))
        return self.frame()

    def close_status(self):
        """Reads until the server's close frame: (code, reason)."""
        while True:
            # recv_frame(), not recv_data(): the latter answers the close frame itself, and a
            # server that already reset the connection (RabbitMQ, seen once) fails that send.
            fr = self.ws.recv_frame()
            if fr.opcode == websocket.ABNF.OPCODE_CLOSE:
                data = fr.data
                code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
                return code, data[2:].decode(errors="replace")

    def close(self):
        try:
            self.ws.close()
        except Exception:  # noqa: the broker may have closed it already
            pass


def connected(t, port=None, **kw):
    """A WsStomp past CONNECT as the target's user (alice) on its Web-STOMP listener."""
    c = WsStomp(port or t.web_stomp_port, **kw)
    cmd, headers, _ = c.connect(t.user, t.password, t.vhost)
    assert cmd == "CONNECTED", (cmd, headers)
    return c


def http_get(port, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()
