"""A tiny raw AMQP 0-9-1 client for hostile-input tests.

No client library: frames are built and parsed by hand so that tests can send
anything at all (broken frames, wrong lengths, methods out of order) and see
exactly what the broker answers with (connection.close, channel.close, or just
a closed socket).

    c = RawAMQP(host, port)
    c.handshake()                      # header, start-ok (PLAIN), tune-ok, open
    c.open_channel(1)
    c.send_method(1, 50, 10, args)     # anything
    ev = c.read_until_close()          # -> Closed(...) describing what happened
"""
import socket
import struct
import time

PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"
FRAME_METHOD, FRAME_HEADER, FRAME_BODY, FRAME_HEARTBEAT = 1, 2, 3, 8
FRAME_END = 0xCE

# (class, method) ids used here
CONNECTION_START = (10, 10)
CONNECTION_START_OK = (10, 11)
CONNECTION_TUNE = (10, 30)
CONNECTION_TUNE_OK = (10, 31)
CONNECTION_OPEN = (10, 40)
CONNECTION_OPEN_OK = (10, 41)
CONNECTION_CLOSE = (10, 50)
CONNECTION_CLOSE_OK = (10, 51)
CONNECTION_BLOCKED = (10, 60)
CONNECTION_UNBLOCKED = (10, 61)
CHANNEL_OPEN = (20, 10)
CHANNEL_OPEN_OK = (20, 11)
CHANNEL_CLOSE = (20, 40)
CHANNEL_CLOSE_OK = (20, 41)
EXCHANGE_DECLARE = (40, 10)
EXCHANGE_DECLARE_OK = (40, 11)
QUEUE_DECLARE = (50, 10)
QUEUE_DECLARE_OK = (50, 11)
QUEUE_BIND = (50, 20)
QUEUE_BIND_OK = (50, 21)
QUEUE_DELETE = (50, 40)
QUEUE_DELETE_OK = (50, 41)
BASIC_QOS = (60, 10)
BASIC_PUBLISH = (60, 40)
BASIC_GET = (60, 70)
BASIC_GET_OK = (60, 71)
BASIC_GET_EMPTY = (60, 72)


# ---------------------------------------------------------------- encoding

def octet(v):
    return struct.pack(">B", v)


def short(v):
    return struct.pack(">H", v)


def long_(v):
    return struct.pack(">I", v)


def longlong(v):
    return struct.pack(">Q", v)


def shortstr(s):
    if isinstance(s, str):
        s = s.encode()
    assert len(s) < 256, "use raw bytes to build an overflowing shortstr"
    return octet(len(s)) + s


def longstr(s):
    if isinstance(s, str):
        s = s.encode()
    return long_(len(s)) + s


def bits(*flags):
    v = 0
    for i, f in enumerate(flags):
        if f:
            v |= 1 << i
    return octet(v)


def field_value(v):
    if isinstance(v, bool):
        return b"t" + octet(1 if v else 0)
    if isinstance(v, int):
        if -(2 ** 31) <= v < 2 ** 31:
            return b"I" + struct.pack(">i", v)
        return b"l" + struct.pack(">q", v)
    if isinstance(v, (str, bytes)):
        return b"S" + longstr(v)
    if isinstance(v, dict):
        return b"F" + table(v)
    if isinstance(v, (list, tuple)):
        body = b"".join(field_value(x) for x in v)
        return b"A" + long_(len(body)) + body
    if v is None:
        return b"V"
    raise TypeError(v)


def table(d):
    body = b"".join(shortstr(k) + field_value(v) for k, v in (d or {}).items())
    return long_(len(body)) + body


def frame(ftype, channel, payload, end=FRAME_END):
    return struct.pack(">BHI", ftype, channel, len(payload)) + payload + bytes([end])


def method_payload(class_id, method_id, args=b""):
    return struct.pack(">HH", class_id, method_id) + args


def content_header(body_size, class_id=60, props_flags=0, props=b""):
    return struct.pack(">HHQH", class_id, 0, body_size, props_flags) + props


# ---------------------------------------------------------------- decoding

class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError("short payload")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def octet(self):
        return self.take(1)[0]

    def short(self):
        return struct.unpack(">H", self.take(2))[0]

    def long(self):
        return struct.unpack(">I", self.take(4))[0]

    def longlong(self):
        return struct.unpack(">Q", self.take(8))[0]

    def shortstr(self):
        return self.take(self.octet()).decode("utf-8", "replace")

    def longstr(self):
        return self.take(self.long())

    def table(self):
        end = self.long()
        end += self.pos
        out = {}
        while self.pos < end:
            k = self.shortstr()
            out[k] = self.value()
        return out

    def value(self):
        t = self.take(1)
        if t == b"t":
            return bool(self.octet())
        if t == b"b":
            return struct.unpack(">b", self.take(1))[0]
        if t == b"s":
            return struct.unpack(">h", self.take(2))[0]
        if t == b"I":
            return struct.unpack(">i", self.take(4))[0]
        if t == b"l":
            return struct.unpack(">q", self.take(8))[0]
        if t == b"f":
            return struct.unpack(">f", self.take(4))[0]
        if t == b"d":
            return struct.unpack(">d", self.take(8))[0]
        if t == b"D":
            self.take(5)
            return None
        if t == b"S":
            return self.longstr().decode("utf-8", "replace")
        if t == b"x":
            return self.longstr()
        if t == b"T":
            return self.longlong()
        if t == b"F":
            return self.table()
        if t == b"A":
            end = self.long() + self.pos
            arr = []
            while self.pos < end:
                arr.append(self.value())
            return arr
        if t == b"V":
            return None
        raise ValueError("unknown field type %r" % t)


class Frame:
    def __init__(self, ftype, channel, payload):
        self.type, self.channel, self.payload = ftype, channel, payload
        self.method = None
        if ftype == FRAME_METHOD and len(payload) >= 4:
            self.method = struct.unpack(">HH", payload[:4])

    def args(self):
        return Reader(self.payload[4:])

    def __repr__(self):
        if self.method:
            return "<Frame method %s ch=%d %r>" % (self.method, self.channel, self.payload[4:60])
        return "<Frame type=%d ch=%d len=%d>" % (self.type, self.channel, len(self.payload))


class Close:
    """A connection.close or channel.close received from the broker."""

    def __init__(self, level, channel, code, text, class_id, method_id):
        self.level, self.channel = level, channel
        self.code, self.text = code, text
        self.class_id, self.method_id = class_id, method_id

    @classmethod
    def from_frame(cls, f):
        r = f.args()
        level = "connection" if f.method == CONNECTION_CLOSE else "channel"
        return cls(level, f.channel, r.short(), r.shortstr(), r.short(), r.short())

    def __repr__(self):
        return "<%s.close ch=%d %d %r (%d,%d)>" % (
            self.level, self.channel, self.code, self.text, self.class_id, self.method_id)


class ConnectionClosed(Exception):
    """The socket was closed by the peer (EOF or reset)."""

    def __init__(self, data=b""):
        super().__init__("socket closed by broker")
        self.data = data


# ---------------------------------------------------------------- client

class RawAMQP:
    def __init__(self, host, port, timeout=5.0, source=None):
        """source: a local address to connect from (e.g. "127.0.0.2")."""
        self.host, self.port = host, port
        self.sock = socket.create_connection(
            (host, port), timeout=timeout, source_address=(source, 0) if source else None)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = b""
        self.tune = None
        self.server_properties = None
        self.frame_max = None
        self.channel_max = None

    # -- low level
    def send(self, data):
        self.sock.sendall(data)

    def send_frame(self, ftype, channel, payload, end=FRAME_END):
        self.send(frame(ftype, channel, payload, end))

    def send_method(self, channel, class_method, args=b"", end=FRAME_END):
        self.send(frame(FRAME_METHOD, channel, method_payload(class_method[0], class_method[1], args), end))

    def _fill(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("timed out waiting for data (have %d bytes)" % len(self.buf))
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                raise ConnectionClosed(self.buf)
            if not chunk:
                raise ConnectionClosed(self.buf)
            self.buf += chunk

    def read_bytes(self, n, timeout=None):
        self._fill(n, time.monotonic() + (timeout or self.timeout))
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_all_until_eof(self, timeout=None):
        """Read everything until the broker closes the socket; returns the bytes.
        Raises socket.timeout if the socket is still open after `timeout`."""
        deadline = time.monotonic() + (timeout or self.timeout)
        try:
            self._fill(1 << 30, deadline)
        except ConnectionClosed as e:
            data, self.buf = e.data, b""
            return data

    def read_frame(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        self._fill(7, deadline)
        ftype, ch, size = struct.unpack(">BHI", self.buf[:7])
        if self.buf.startswith(b"AMQP"):
            raise ValueError("got a protocol header, not a frame: %r" % self.buf[:8])
        self._fill(7 + size + 1, deadline)
        payload = self.buf[7:7 + size]
        end = self.buf[7 + size]
        self.buf = self.buf[8 + size:]
        if end != FRAME_END:
            raise ValueError("bad frame end from broker: %r" % end)
        return Frame(ftype, ch, payload)

    def read_method(self, expect=None, timeout=None, skip_heartbeats=True):
        while True:
            f = self.read_frame(timeout)
            if f.type == FRAME_HEARTBEAT and skip_heartbeats:
                continue
            if expect is not None and f.method != expect:
                if f.method in (CONNECTION_CLOSE, CHANNEL_CLOSE):
                    raise AssertionError("expected %s, got %r" % (expect, Close.from_frame(f)))
                raise AssertionError("expected %s, got %r" % (expect, f))
            return f

    # -- handshake
    def handshake(self, user="guest", password="guest", vhost="/", channel_max=0,
                  frame_max=0, heartbeat=0, client_properties=None):
        """Full handshake. channel_max/frame_max 0 = accept the server's values."""
        self.send(PROTOCOL_HEADER)
        start = self.read_method(CONNECTION_START)
        r = start.args()
        r.octet(), r.octet()
        self.server_properties = r.table()
        props = client_properties or {
            "product": "pulse-rawamqp", "capabilities": {
                "publisher_confirms": True, "consumer_cancel_notify": True,
                "connection.blocked": True, "basic.nack": True}}
        resp = b"\x00" + user.encode() + b"\x00" + password.encode()
        self.send_method(0, CONNECTION_START_OK,
                         table(props) + shortstr("PLAIN") + longstr(resp) + shortstr("en_US"))
        tune = self.read_method(CONNECTION_TUNE)
        r = tune.args()
        s_ch, s_fm, s_hb = r.short(), r.long(), r.short()
        self.tune = (s_ch, s_fm, s_hb)
        self.channel_max = channel_max or s_ch
        self.frame_max = frame_max or s_fm
        self.send_method(0, CONNECTION_TUNE_OK,
                         short(self.channel_max) + long_(self.frame_max) + short(heartbeat))
        self.send_method(0, CONNECTION_OPEN, shortstr(vhost) + shortstr("") + bits(False))
        self.read_method(CONNECTION_OPEN_OK)
        return self

    def open_channel(self, ch=1):
        self.send_method(ch, CHANNEL_OPEN, shortstr(""))
        self.read_method(CHANNEL_OPEN_OK)

    # -- common operations (encoders for the method arguments)
    @staticmethod
    def queue_declare_args(name, passive=False, durable=False, exclusive=False,
                           auto_delete=False, nowait=False, arguments=None):
        return short(0) + shortstr(name) + bits(passive, durable, exclusive, auto_delete, nowait) + table(arguments)

    @staticmethod
    def exchange_declare_args(name, etype="direct", passive=False, durable=False,
                              auto_delete=False, internal=False, nowait=False, arguments=None):
        return (short(0) + shortstr(name) + shortstr(etype)
                + bits(passive, durable, auto_delete, internal, nowait) + table(arguments))

    @staticmethod
    def publish_args(exchange, routing_key, mandatory=False, immediate=False):
        return short(0) + shortstr(exchange) + shortstr(routing_key) + bits(mandatory, immediate)

    def queue_declare(self, ch, name, **kw):
        self.send_method(ch, QUEUE_DECLARE, self.queue_declare_args(name, **kw))
        r = self.read_method(QUEUE_DECLARE_OK).args()
        return r.shortstr(), r.long(), r.long()

    def publish(self, ch, exchange, routing_key, body, max_body_frame=None):
        self.send_method(ch, BASIC_PUBLISH, self.publish_args(exchange, routing_key))
        self.send_frame(FRAME_HEADER, ch, content_header(len(body)))
        step = max_body_frame or (self.frame_max - 8 if self.frame_max else 131064)
        for i in range(0, len(body), step):
            self.send_frame(FRAME_BODY, ch, body[i:i + step])

    def basic_get(self, ch, queue, no_ack=True):
        """Returns the body, or None for get-empty."""
        self.send_method(ch, BASIC_GET, short(0) + shortstr(queue) + bits(no_ack))
        f = self.read_method()
        if f.method == BASIC_GET_EMPTY:
            return None
        if f.method != BASIC_GET_OK:
            if f.method in (CONNECTION_CLOSE, CHANNEL_CLOSE):
                raise AssertionError("basic.get failed: %r" % Close.from_frame(f))
            raise AssertionError("unexpected %r" % f)
        h = self.read_frame()
        assert h.type == FRAME_HEADER, h
        size = struct.unpack(">Q", h.payload[4:12])[0]
        body = b""
        while len(body) < size:
            b = self.read_frame()
            assert b.type == FRAME_BODY, b
            body += b.payload
        return body

    def close(self, code=200, text="bye"):
        try:
            self.send_method(0, CONNECTION_CLOSE, short(code) + shortstr(text) + short(0) + short(0))
            self.read_method(CONNECTION_CLOSE_OK, timeout=2)
        except (OSError, ConnectionClosed, AssertionError):
            pass
        self.sock.close()

    def abort(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # -- observing how the broker reacted
    def read_until_close(self, timeout=None):
        """Read frames until a connection.close / channel.close arrives or the socket closes.

        Returns a Close (connection or channel level) or the string "socket-closed".
        A connection.close is answered with close-ok (like a real client would) and
        the socket is then expected to close.
        """
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            try:
                f = self.read_frame(max(0.01, deadline - time.monotonic()))
            except ConnectionClosed:
                return "socket-closed"
            if f.method == CONNECTION_CLOSE:
                c = Close.from_frame(f)
                try:
                    self.send_method(0, CONNECTION_CLOSE_OK)
                except OSError:
                    pass
                return c
            if f.method == CHANNEL_CLOSE:
                c = Close.from_frame(f)
                return c

    def socket_closes_within(self, timeout):
        """True when the broker closes the socket within `timeout` (data received is ignored)."""
        try:
            self.read_all_until_eof(timeout)
            return True
        except socket.timeout:
            return False


def check_broker_healthy(host, port, tag="healthy"):
    """A full round trip on a fresh connection: declare, publish, get, delete."""
    c = RawAMQP(host, port).handshake()
    try:
        c.open_channel(1)
        q = "rawamqp.health.%s.%d" % (tag, time.monotonic_ns())
        c.queue_declare(1, q, auto_delete=False)
        c.publish(1, "", q, b"ping-" + tag.encode())
        body = c.basic_get(1, q)
        assert body == b"ping-" + tag.encode(), body
        c.send_method(1, QUEUE_DELETE, short(0) + shortstr(q) + bits(False, False, False))
        c.read_method(QUEUE_DELETE_OK)
    finally:
        c.close()
