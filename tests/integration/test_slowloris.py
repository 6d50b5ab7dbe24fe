"""Slow clients (slowloris) on every listener: a client that sends a valid-looking start one byte
at a time and never finishes it is closed at the listener's deadline, counted from the
connection's start and not moved by each byte, while a bystander on the same listener is served
as usual.

The deadlines, on pulsed and on RabbitMQ 3.10 alike (PULSE_TEST_TARGET picks the broker; a
RabbitMQ node gets rabbitmq_stomp and rabbitmq_web_stomp):
- AMQP: handshake_timeout, from the accept to connection.open (the protocol header, start-ok);
  a silent close.
- STOMP: stomp.login_timeout, from the accept to a successful CONNECT; a silent close.
- Web-STOMP's listener: the upgrade request within 5 s (cowboy's request_timeout, which
  rabbitmq_web_stomp leaves at its default and rabbitmq.conf cannot set); a 408 once the
  request line is in, a silent close before it.
- The management and Prometheus listeners: management.tcp.request_timeout and
  prometheus.tcp.request_timeout for a connection's first request line and headers (the same
  408 or silent close), management.tcp.idle_timeout for a later request's (a silent close).
pulsed only, where RabbitMQ deliberately differs: stomp.login_timeout also ends a Web-STOMP
session without a CONNECT (rabbit_web_stomp_handler has no login timeout: a client that sends a
WebSocket frame within each ws_opts.idle_timeout keeps it forever), and a request body must
arrive within management.tcp.idle_timeout of its headers (cowboy restarts that timeout with
each piece of body, so a body sent a byte at a time keeps the connection forever).
"""
import base64
import http.client
import os
import select
import socket
import struct
import threading
import time

import pytest

from harness.broker import HOST, PulsedBroker, RabbitBroker, target_name
from harness.stomp_helpers import Raw
from harness.web_stomp import WsStomp
from rawamqp import (CONNECTION_START, CONNECTION_START_OK, PROTOCOL_HEADER, RawAMQP, longstr,
                     shortstr, table)

DEADLINE = 2.0  # s: handshake_timeout, stomp.login_timeout, *.tcp.request_timeout
IDLE = 3.0  # s: management.tcp.idle_timeout
WS_REQUEST_DEADLINE = 5.0  # s: cowboy's request_timeout on Web-STOMP's listener
INTERVAL = 0.25  # s between two bytes
AUTH = "Basic " + base64.b64encode(b"guest:guest").decode()

CONFIG = {
    "handshake_timeout": str(int(DEADLINE * 1000)),
    "stomp.login_timeout": str(int(DEADLINE * 1000)),
    "management.tcp.request_timeout": str(int(DEADLINE * 1000)),
    "management.tcp.idle_timeout": str(int(IDLE * 1000)),
    "prometheus.tcp.request_timeout": str(int(DEADLINE * 1000)),
}


def pulsed_only(reason):
    return pytest.mark.skipif(target_name() != "pulsed", reason="pulsed deliberately differs: "
                              + reason)


@pytest.fixture(scope="module")
def b():
    if target_name() == "rabbitmq":
        broker = RabbitBroker(CONFIG, plugins=["rabbitmq_stomp", "rabbitmq_web_stomp"])
    else:
        broker = PulsedBroker(CONFIG)
    broker.start()
    yield broker
    broker.stop()


class Dribbler(threading.Thread):
    """Sends `chunks` (one byte each, unless given otherwise) one every INTERVAL on `sock` and
    watches it meanwhile: what arrives, and when the broker closes (EOF or reset), counted
    from `t0`, the connection's start."""

    def __init__(self, sock, t0, data=b"", chunks=None, interval=INTERVAL):
        super().__init__(daemon=True)
        self.sock, self.t0, self.interval = sock, t0, interval
        self.chunks = chunks if chunks is not None else [bytes([c]) for c in data]
        self.sent = 0
        self.received = b""
        self.first_data_after = None  # s from t0 to the first byte received
        self.closed_after = None  # s from t0 to the close
        self.finished = False  # everything was sent and the connection is still open

    @property
    def duration(self):
        return len(self.chunks) * self.interval

    def _closed(self):
        self.closed_after = time.monotonic() - self.t0

    def run(self):
        s = self.sock
        for chunk in self.chunks:
            try:
                s.sendall(chunk)
            except OSError:
                return self._closed()
            self.sent += 1
            end = time.monotonic() + self.interval
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    break
                if not select.select([s], [], [], left)[0]:
                    break
                try:
                    data = s.recv(65536)
                except OSError:
                    return self._closed()
                if not data:
                    return self._closed()
                if self.first_data_after is None:
                    self.first_data_after = time.monotonic() - self.t0
                self.received += data
        self.finished = True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def dribble(port, data=b"", start=b"", chunks=None, interval=INTERVAL):
    """A Dribbler on a new connection to `port` that first sends `start` whole."""
    s = socket.create_connection((HOST, port), timeout=10)
    t0 = time.monotonic()
    if start:
        s.sendall(start)
    d = Dribbler(s, t0, data, chunks, interval)
    d.start()
    return d


def assert_closed_at(d, deadline, what):
    """`d` was closed by the broker at `deadline` (s from its start), before it had sent all."""
    assert d.duration >= deadline + 5, "%s: the dribble must outlast the deadline" % what
    d.join(deadline + 10)
    try:
        assert d.closed_after is not None, (
            "%s: still open %.1f s after its start, %d pieces sent one by one (finished: %s)"
            % (what, time.monotonic() - d.t0, d.sent, d.finished))
        assert deadline - 0.2 <= d.closed_after <= deadline + 3, (
            "%s: closed %.2f s after its start; the deadline is %.1f s"
            % (what, d.closed_after, deadline))
        assert not d.finished
    finally:
        d.close()


def assert_408(d, what):
    assert d.received.startswith(b"HTTP/1.1 408 "), "%s: %r" % (what, d.received[:200])
    head = d.received.split(b"\r\n\r\n", 1)[0].lower()
    assert b"\r\nconnection: close" in head, "%s: %r" % (what, head)
    # Sent at the deadline, not when the client gave up.
    assert d.first_data_after >= d.closed_after - 1.5, (d.first_data_after, d.closed_after)


def http_get(port, path, auth=True):
    c = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        c.request("GET", path, headers={"Authorization": AUTH} if auth else {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


# ------------------------------------------------------------------------------- AMQP

def amqp_bystander(b):
    """A whole AMQP handshake, a publish and a get on the listener being dribbled on."""
    c = b.connect()
    try:
        ch = c.channel()
        q = ch.queue_declare("", exclusive=True).method.queue
        ch.basic_publish("", q, b"bystander")
        assert ch.basic_get(q, auto_ack=True)[2] == b"bystander"
    finally:
        c.close()


def start_ok():
    """A connection.start-ok frame with a client-properties table to dribble for long."""
    props = {"product": "slowloris", "information": "one byte at a time " * 3}
    args = table(props) + shortstr("PLAIN") + longstr(b"\0guest\0guest") + shortstr("en_US")
    payload = struct.pack(">HH", *CONNECTION_START_OK) + args
    return struct.pack(">BHI", 1, 0, len(payload)) + payload + b"\xce"


def test_amqp_protocol_header_dribbled(b):
    # One byte every 0.4 s: the header would be whole at 2.8 s, past the deadline, and its
    # start-ok (sent without waiting for connection.start) long after.
    d = dribble(b.port, PROTOCOL_HEADER + start_ok(), interval=0.4)
    amqp_bystander(b)
    assert_closed_at(d, DEADLINE, "AMQP protocol header")
    assert d.sent < len(PROTOCOL_HEADER)
    assert d.received == b"", "no connection.start for a header never finished: %r" % d.received


def test_amqp_start_ok_dribbled(b):
    c = RawAMQP(b.host, b.port)
    t0 = time.monotonic()
    c.send(PROTOCOL_HEADER)
    c.read_method(CONNECTION_START)
    d = Dribbler(c.sock, t0, start_ok())
    d.start()
    amqp_bystander(b)
    assert_closed_at(d, DEADLINE, "AMQP connection.start-ok")
    assert d.received == b"", "a silent close: %r" % d.received


# ------------------------------------------------------------------------------ STOMP

CONNECT = b"CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0"


def stomp_bystander(b, q):
    r = Raw(b.stomp_port)
    try:
        assert r.connect()[0] == "CONNECTED"
        r.send(("SUBSCRIBE\ndestination:/queue/%s\nid:s\n\n\0"
                "SEND\ndestination:/queue/%s\n\nbystander\0" % (q, q)).encode())
        cmd, _, body = r.frame()
        assert (cmd, body) == ("MESSAGE", b"bystander")
    finally:
        r.close()


def test_stomp_connect_dribbled(b):
    d = dribble(b.stomp_port, CONNECT)
    stomp_bystander(b, "slowloris-stomp")
    assert_closed_at(d, DEADLINE, "STOMP CONNECT")
    assert d.received == b"", "a silent close: %r" % d.received


# -------------------------------------------------------------------------- Web-STOMP

def upgrade_headers(port, path="/ws"):
    key = base64.b64encode(os.urandom(16)).decode()
    return ("Host: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: v12.stomp\r\n\r\n" % (port, key)).encode()


def ws_frame(payload, opcode=1):
    """A client's (masked) WebSocket frame, payload under 126 bytes."""
    mask = os.urandom(4)
    masked = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked


def web_stomp_bystander(b, q):
    c = WsStomp(b.web_stomp_port)
    try:
        assert c.connect("guest", "guest", "/")[0] == "CONNECTED"
        c.send("SUBSCRIBE\ndestination:/queue/%s\nid:s\n\n\0"
               "SEND\ndestination:/queue/%s\n\nbystander\0" % (q, q))
        cmd, _, body = c.frame()
        assert (cmd, body) == ("MESSAGE", b"bystander")
    finally:
        c.close()


def test_web_stomp_upgrade_request_dribbled(b):
    port = b.web_stomp_port
    # Cut within the request line (a long query string) and within the headers.
    line = dribble(port, b"GET /ws?" + b"x" * 40 + b" HTTP/1.1\r\n" + upgrade_headers(port))
    headers = dribble(port, upgrade_headers(port), start=b"GET /ws HTTP/1.1\r\n")
    web_stomp_bystander(b, "slowloris-ws")
    assert_closed_at(line, WS_REQUEST_DEADLINE, "Web-STOMP request line")
    assert line.received == b"", line.received
    assert_closed_at(headers, WS_REQUEST_DEADLINE, "Web-STOMP upgrade headers")
    assert_408(headers, "Web-STOMP upgrade headers")


def upgraded(port):
    """A raw socket past the WebSocket upgrade, and when the upgrade was answered."""
    s = socket.create_connection((HOST, port), timeout=10)
    s.sendall(b"GET /ws HTTP/1.1\r\n" + upgrade_headers(port))
    head = b""
    while b"\r\n\r\n" not in head:
        data = s.recv(1)
        assert data, head
        head += data
    assert head.startswith(b"HTTP/1.1 101 "), head
    return s, time.monotonic()


def close_frame(data):
    """(code, reason) of the first frame of `data` if it is a close frame (unmasked), else
    None."""
    if len(data) < 2 or data[0] & 0x0F != 8:
        return None
    n = data[1] & 0x7F
    body = data[2:2 + n]
    return int.from_bytes(body[:2], "big"), body[2:].decode(errors="replace")


@pulsed_only("rabbit_web_stomp_handler has no login timeout, so RabbitMQ keeps a session "
             "that never logs in while a frame comes within each ws_opts.idle_timeout")
def test_web_stomp_connect_dribbled_after_the_upgrade(b):
    """stomp.login_timeout ends a Web-STOMP session that has no CONNECT at the deadline, counted
    from the upgrade: its CONNECT sent one byte per WebSocket frame (each frame whole), or as
    one frame whose bytes trickle in. (rabbit_web_stomp_handler has no login timeout.)"""
    s1, t1 = upgraded(b.web_stomp_port)
    per_frame = Dribbler(s1, t1, chunks=[ws_frame(bytes([c])) for c in CONNECT])
    s2, t2 = upgraded(b.web_stomp_port)
    in_one = Dribbler(s2, t2, ws_frame(CONNECT))  # byte by byte, its header too
    per_frame.start()
    in_one.start()
    web_stomp_bystander(b, "slowloris-ws-login")
    for d, what in ((per_frame, "a byte per frame"), (in_one, "one frame")):
        assert_closed_at(d, DEADLINE, "Web-STOMP CONNECT, " + what)
        # The close frame cowboy's handler sends when STOMP ends, at the deadline.
        assert close_frame(d.received) == (1000, "STOMP died"), d.received
        assert DEADLINE - 0.2 <= d.first_data_after <= DEADLINE + 3, d.first_data_after


# ---------------------------------------------------------- management and Prometheus

def test_management_request_dribbled(b):
    port = b.http_port
    line = dribble(port, b"GET /api/overview?" + b"x" * 40 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    headers = dribble(port, ("Host: 127.0.0.1\r\nAuthorization: %s\r\nAccept: */*\r\n\r\n"
                             % AUTH).encode(), start=b"GET /api/overview HTTP/1.1\r\n")
    assert http_get(port, "/api/overview")[0] == 200
    assert_closed_at(line, DEADLINE, "management request line")
    assert line.received == b"", line.received
    assert_closed_at(headers, DEADLINE, "management request headers")
    assert_408(headers, "management request headers")


def test_management_keep_alive_request_dribbled(b):
    """A connection's later request: its headers within management.tcp.idle_timeout of the
    previous answer, then a silent close."""
    s = socket.create_connection((HOST, b.http_port), timeout=10)
    s.sendall(("GET /api/overview HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n\r\n"
               % AUTH).encode())
    r = http.client.HTTPResponse(s)
    r.begin()
    assert r.status == 200 and not r.will_close
    r.read()
    d = Dribbler(s, time.monotonic(), ("GET /api/overview HTTP/1.1\r\nHost: x\r\n"
                                       "Authorization: %s\r\n\r\n" % AUTH).encode())
    d.start()
    assert http_get(b.http_port, "/api/overview")[0] == 200
    assert_closed_at(d, IDLE, "management keep-alive request")
    assert d.received == b"", d.received


@pulsed_only("cowboy restarts management.tcp.idle_timeout with each piece of a request "
             "body, so RabbitMQ keeps a connection whose body trickles in")
def test_management_body_dribbled(b):
    """A body within management.tcp.idle_timeout of its headers however it trickles in (cowboy
    restarts the timeout with each piece: RabbitMQ keeps such a connection forever)."""
    body = b'{"description": "' + b"x" * 100 + b'"}'
    head = ("PUT /api/vhosts/slowloris HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % (AUTH, len(body))).encode()
    d = dribble(b.http_port, body, start=head)
    assert http_get(b.http_port, "/api/overview")[0] == 200
    assert_closed_at(d, IDLE, "management request body")
    assert d.received == b"", d.received
    assert http_get(b.http_port, "/api/vhosts/slowloris")[0] == 404


def test_prometheus_request_dribbled(b):
    port = b.prometheus_port
    d = dribble(port, b"Host: 127.0.0.1\r\nAccept: text/plain\r\nUser-Agent: slowloris\r\n\r\n",
                start=b"GET /metrics HTTP/1.1\r\n")
    status, body = http_get(port, "/metrics", auth=False)
    assert status == 200 and b"rabbitmq_" in body
    assert_closed_at(d, DEADLINE, "Prometheus request headers")
    assert_408(d, "Prometheus request headers")
