"""STOMP clients for the tests: stomp.py connections whose frames land in queues, and a raw
socket client that reads frames byte for byte (header order, ERROR frames, closes)."""
import queue
import socket
import time

import stomp

TIMEOUT = 10


class Collector(stomp.ConnectionListener):
    """Every MESSAGE, ERROR and RECEIPT frame, in arrival order, per kind."""

    def __init__(self):
        self.messages = queue.Queue()
        self.errors = queue.Queue()
        self.receipts = queue.Queue()
        self.disconnected = False

    def on_message(self, frame):
        self.messages.put(frame)

    def on_error(self, frame):
        self.errors.put(frame)

    def on_receipt(self, frame):
        self.receipts.put(frame.headers.get("receipt-id"))

    def on_disconnected(self):
        self.disconnected = True

    def message(self, timeout=TIMEOUT):
        return self.messages.get(timeout=timeout)

    def error(self, timeout=TIMEOUT):
        return self.errors.get(timeout=timeout)

    def receipt(self, timeout=TIMEOUT):
        return self.receipts.get(timeout=timeout)

    def no_message(self, wait=0.5):
        try:
            m = self.messages.get(timeout=wait)
        except queue.Empty:
            return True
        raise AssertionError("unexpected MESSAGE %r %r" % (m.headers, m.body))


def connect(port, user="guest", password="guest", vhost="/", version="1.2", heartbeats=(0, 0),
            headers=None):
    """A connected stomp.py client and its Collector."""
    cls = {"1.0": stomp.Connection10, "1.1": stomp.Connection11, "1.2": stomp.Connection12}[version]
    kw = {} if version == "1.0" else {"heartbeats": heartbeats, "vhost": vhost}
    c = cls([("127.0.0.1", port)], auto_decode=False, **kw)
    col = Collector()
    c.set_listener("collector", col)
    c.connect(user, password, wait=True, headers=headers or {})
    return c, col


def connect_target(t, **kw):
    """connect() as the target's user (alice) to its vhost (pulse-test)."""
    return connect(t.stomp_port, t.user, t.password, t.vhost, **kw)


def raw_target(t):
    """A Raw client past CONNECT as the target's user."""
    r = Raw(t.stomp_port)
    frame = r.connect(t.user, t.password, t.vhost)
    assert frame[0] == "CONNECTED", frame
    return r


def close(c):
    try:
        if c.is_connected():
            c.disconnect()
    except Exception:  # noqa: the broker may have closed it already
        pass


class Raw:
    """A plain socket speaking STOMP by hand; frames are parsed as RabbitMQ writes them."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def connect(self, user="guest", password="guest", host="/", version="1.2"):
        self.send(("CONNECT\naccept-version:%s\nhost:%s\nlogin:%s\npasscode:%s\n\n\0"
                   % (version, host, user, password)).encode())
        return self.frame()

    def frame(self, timeout=TIMEOUT):
        """(command, [(name, value)...], body); None when the server closed the socket."""
        deadline = time.time() + timeout
        while True:
            stripped = self.buf.lstrip(b"\r\n")
            end = stripped.find(b"\n\n")
            if end >= 0:
                head = stripped[:end].decode()
                lines = head.split("\n")
                headers = [tuple(line.split(":", 1)) for line in lines[1:]]
                length = dict(headers).get("content-length")
                body_start = end + 2
                if length is not None:
                    stop = body_start + int(length)
                    if len(stripped) > stop:
                        self.buf = stripped[stop + 1:]
                        return lines[0], headers, stripped[body_start:stop]
                else:
                    nul = stripped.find(b"\0", body_start)
                    if nul >= 0:
                        self.buf = stripped[nul + 1:]
                        return lines[0], headers, stripped[body_start:nul]
            self.sock.settimeout(max(0.01, deadline - time.time()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                raise AssertionError("no frame within %ss; have %r" % (timeout, self.buf))
            except ConnectionResetError:
                data = b""
            if not data:
                return None
            self.buf += data

    def closed(self, timeout=TIMEOUT):
        """True once the server closes the socket (frames before the close are dropped)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.time()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return False
            except ConnectionResetError:
                return True
            if not data:
                return True
        return False

    def close(self):
        self.sock.close()
