"""Web-STOMP's options (web_stomp.ws_frame, .ws_path, .ws_opts.*, .max_connections) and
web_stomp.use_http_auth, each on pulsed and on a private RabbitMQ 3.10 node with
rabbitmq_web_stomp configured alike."""
import base64
import os
import socket
import struct
import time
import uuid
import zlib

import pytest
import websocket

from harness.broker import HOST, PulsedBroker, RabbitBroker
from harness.http_api import HttpApi
from harness.web_stomp import WsStomp, http_get

USER, PASSWORD, VHOST = "alice", "alice-secret1", "pulse-test"
MAX = 4096

OPTIONS = {
    "web_stomp.ws_frame": "binary",
    "web_stomp.ws_path": "/stomp",
    "web_stomp.ws_opts.max_frame_size": str(MAX),
    "web_stomp.ws_opts.idle_timeout": "2000",
    "web_stomp.ws_opts.compress": "true",
}
# use_http_auth, with permessage-deflate off to see the other side of compress, and a
# connection limit (the tests but one hold one connection at a time). One acceptor: each of
# ranch's accepts one connection past the limit before it blocks (pulsed's limit is exact).
HTTP_AUTH = {
    "web_stomp.use_http_auth": "true",
    "web_stomp.ws_opts.compress": "false",
    "web_stomp.max_connections": "2",
    "web_stomp.num_acceptors.tcp": "1",
}


def start(kind, config):
    if kind == "pulsed":
        return PulsedBroker(config=config).start()
    return RabbitBroker(config=config, plugins=["rabbitmq_stomp", "rabbitmq_web_stomp"]).start()


@pytest.fixture(scope="module", params=["pulsed", "rabbitmq"])
def opts(request):
    b = start(request.param, OPTIONS)
    b.kind = request.param
    yield b
    b.stop()


@pytest.fixture(scope="module", params=["pulsed", "rabbitmq"])
def http_auth(request):
    b = start(request.param, HTTP_AUTH)
    b.kind = request.param
    yield b
    b.stop()


@pytest.fixture
def name():
    return "wsopt-" + uuid.uuid4().hex[:10]


def connect(b, path="/stomp", port=None, login=USER, passcode=PASSWORD, extra="", **kw):
    c = WsStomp(port or b.web_stomp_port, path=path, **kw)
    cmd, headers, body = c.connect(login, passcode, VHOST, extra)
    return c, cmd, dict(headers), body


# --- web_stomp.ws_frame ---------------------------------------------------------------------

def test_binary_frames(opts, name):
    c, cmd, _, _ = connect(opts)
    try:
        assert cmd == "CONNECTED"
        c.send("SUBSCRIBE\nid:s\ndestination:/queue/alice.%s\nreceipt:r\n\n\0" % name)
        assert c.frame()[0] == "RECEIPT"
        c.send("SEND\ndestination:/queue/alice.%s\n\nhi\0" % name)
        assert c.frame()[2] == b"hi"
        # CONNECTED, RECEIPT and MESSAGE: each one binary WebSocket message.
        assert [op for op, _ in c.messages] == [websocket.ABNF.OPCODE_BINARY] * 3
    finally:
        c.close()


def test_text_frames_by_default(http_auth):
    c = WsStomp(http_auth.web_stomp_port, header=auth_header(basic(USER, PASSWORD)))
    try:
        assert c.connect(USER, PASSWORD, VHOST)[0] == "CONNECTED"
        assert [op for op, _ in c.messages] == [websocket.ABNF.OPCODE_TEXT]
    finally:
        c.close()


# --- web_stomp.ws_path ----------------------------------------------------------------------

def test_ws_path(opts):
    c, cmd, _, _ = connect(opts, path="/stomp")
    c.close()
    assert cmd == "CONNECTED"
    with pytest.raises(websocket.WebSocketBadStatusException) as e:
        WsStomp(opts.web_stomp_port, path="/ws")
    assert e.value.status_code == 404
    assert http_get(opts.web_stomp_port, "/ws")[0] == 404


def test_ws_path_on_the_management_listener(opts):
    if opts.kind != "pulsed":
        pytest.skip("pulsed's addition: rabbitmq_management serves no WebSocket")
    c, cmd, _, _ = connect(opts, path="/stomp", port=opts.http_port)
    c.close()
    assert cmd == "CONNECTED"
    with pytest.raises(websocket.WebSocketBadStatusException) as e:
        WsStomp(opts.http_port, path="/ws")
    assert e.value.status_code == 404


# --- web_stomp.ws_opts.max_frame_size -------------------------------------------------------

def test_max_frame_size(opts, name):
    c, cmd, _, _ = connect(opts)
    try:
        assert cmd == "CONNECTED"
        c.send("SUBSCRIBE\nid:s\ndestination:/queue/alice.%s\n\n\0" % name)
        prefix = "SEND\ndestination:/queue/alice.%s\n\n" % name
        body = "a" * (MAX - len(prefix) - 1)
        c.send(prefix + body + "\0")  # exactly MAX bytes
        assert c.frame()[2] == body.encode()
        big = "SEND\ndestination:/queue/alice.%s\n\n%s\0" % (name, "b" * MAX)
        c.send(big)
        code, _ = c.close_status()
        assert code == 1009
    finally:
        c.close()


def test_max_frame_size_counts_a_fragmented_message_whole(opts):
    c = WsStomp(opts.web_stomp_port, path="/stomp")
    try:
        half = "x" * (MAX // 2 + 100)
        c.ws.send_frame(websocket.ABNF.create_frame(half, websocket.ABNF.OPCODE_TEXT, fin=0))
        c.ws.send_frame(websocket.ABNF.create_frame(half, websocket.ABNF.OPCODE_CONT, fin=1))
        assert c.close_status()[0] == 1009
    finally:
        c.close()


# --- web_stomp.ws_opts.idle_timeout ---------------------------------------------------------

def test_idle_timeout_closes_a_silent_client(opts):
    c, cmd, _, _ = connect(opts)
    try:
        assert cmd == "CONNECTED"
        t = time.time()
        code, reason = c.close_status()
        elapsed = time.time() - t
        assert (code, reason) == (1000, "")
        assert 1.5 < elapsed < 5, elapsed
    finally:
        c.close()


def test_idle_timeout_spares_a_client_sending_heart_beats(opts, name):
    c, cmd, _, _ = connect(opts, extra="heart-beat:1000,0\n")
    try:
        assert cmd == "CONNECTED"
        for _ in range(12):  # 4.8 s, over twice the idle timeout
            time.sleep(0.4)
            c.send("\n")
        c.send("SEND\ndestination:/queue/alice.%s\nreceipt:r\n\nx\0" % name)
        assert c.frame()[0] == "RECEIPT"
    finally:
        c.close()


# --- web_stomp.ws_opts.compress -------------------------------------------------------------

def raw_upgrade(port, path, extra_headers):
    """A WebSocket upgrade by hand (websocket-client offers no permessage-deflate): the
    response's status and headers, and the socket with whatever followed them."""
    s = socket.create_connection((HOST, port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: Upgrade\r\n"
           "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n"
           "Sec-WebSocket-Protocol: v12.stomp\r\n%s\r\n"
           % (path, port, key, "".join("%s: %s\r\n" % h for h in extra_headers)))
    s.sendall(req.encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        assert chunk, buf
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip()
               for k, v in (line.split(":", 1) for line in lines[1:])}
    return status, headers, s, rest


def send_text(s, payload):
    """One masked, uncompressed text frame."""
    data = payload.encode()
    mask = os.urandom(4)
    head = bytes([0x81])
    if len(data) < 126:
        head += bytes([0x80 | len(data)])
    else:
        head += bytes([0x80 | 126]) + struct.pack("!H", len(data))
    s.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


def recv_frame(s, buf):
    """(first byte, payload, rest of buf) of the next frame from the server (unmasked)."""
    def need(n):
        nonlocal buf
        while len(buf) < n:
            chunk = s.recv(65536)
            assert chunk, "closed"
            buf += chunk
    need(2)
    b0, n = buf[0], buf[1] & 0x7F
    off = 2
    if n == 126:
        need(4)
        n, off = struct.unpack("!H", buf[2:4])[0], 4
    elif n == 127:
        need(10)
        n, off = struct.unpack("!Q", buf[2:10])[0], 10
    need(off + n)
    return b0, buf[off:off + n], buf[off + n:]


def test_compress_negotiated_when_offered(opts):
    status, headers, s, rest = raw_upgrade(opts.web_stomp_port, "/stomp", [
        ("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")])
    try:
        assert status == 101
        assert headers["sec-websocket-extensions"].startswith("permessage-deflate")
        send_text(s, "CONNECT\naccept-version:1.2\nhost:%s\nlogin:%s\npasscode:%s\n\n\0"
                  % (VHOST, USER, PASSWORD))
        b0, payload, _ = recv_frame(s, rest)
        assert b0 & 0x40  # RSV1: a compressed message
        frame = zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff")
        assert frame.startswith(b"CONNECTED\n")
    finally:
        s.close()


def test_no_compression_when_not_offered(opts):
    status, headers, s, _ = raw_upgrade(opts.web_stomp_port, "/stomp", [])
    s.close()
    assert status == 101 and "sec-websocket-extensions" not in headers


def test_compress_false_declines_it(http_auth):
    status, headers, s, _ = raw_upgrade(http_auth.web_stomp_port, "/ws", [
        ("Sec-WebSocket-Extensions", "permessage-deflate"), basic(USER, PASSWORD)])
    s.close()
    assert status == 101 and "sec-websocket-extensions" not in headers


# --- web_stomp.max_connections -------------------------------------------------------------

def upgrade_request():
    return ("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n\r\n"
            % base64.b64encode(os.urandom(16)).decode()).encode()


def test_max_connections(http_auth):
    # web_stomp.max_connections = 2: past two connections the listener accepts no more (a
    # client waits in the backlog, unanswered) until one of them ends.
    auth = auth_header(basic(USER, PASSWORD))
    held = [WsStomp(http_auth.web_stomp_port, header=auth) for _ in range(2)]
    waiting = None
    try:
        for c in held:
            assert c.connect(USER, PASSWORD, VHOST)[0] == "CONNECTED"
        waiting = socket.create_connection((HOST, http_auth.web_stomp_port), timeout=10)
        waiting.sendall(upgrade_request())
        waiting.settimeout(2)
        with pytest.raises(socket.timeout):
            waiting.recv(1)
        held.pop().close()
        waiting.settimeout(10)
        assert waiting.recv(12) == b"HTTP/1.1 101"
        held[0].send("SEND\ndestination:/queue/alice.x\nreceipt:r\n\nx\0")
        assert held[0].frame()[0] == "RECEIPT"
    finally:
        for c in held:
            c.close()
        if waiting:
            waiting.close()


# --- web_stomp.use_http_auth ----------------------------------------------------------------

def basic(user, password):
    return ("Authorization", "Basic " + base64.b64encode(
        ("%s:%s" % (user, password)).encode()).decode())


def auth_header(h):
    return ["%s: %s" % h]


def session_user(b, c):
    """The user the management API shows for the Web-STOMP connection `c`."""
    api = HttpApi(b)
    port = c.ws.sock.getsockname()[1]
    deadline = time.time() + 15
    while time.time() < deadline:
        for x in api.get("/api/connections").json:
            if x.get("peer_port") == port:
                return x["user"]
        time.sleep(0.2)
    raise AssertionError("connection not listed")


def test_http_auth_credentials_log_in(http_auth):
    # CONNECT's login and passcode are ignored: the upgrade's credentials decide.
    c = WsStomp(http_auth.web_stomp_port, header=auth_header(basic(USER, PASSWORD)))
    try:
        cmd, headers, _ = c.connect("guest", "not-the-password", VHOST)
        assert cmd == "CONNECTED", headers
        assert session_user(http_auth, c) == USER
    finally:
        c.close()


def test_http_auth_wrong_credentials(http_auth):
    # The upgrade succeeds; every CONNECT is refused, even with the right login in it, and the
    # session stays open unauthenticated (as a failed CONNECT leaves it).
    c = WsStomp(http_auth.web_stomp_port, header=auth_header(basic(USER, "wrong")))
    try:
        for _ in range(2):
            cmd, headers, body = c.connect(USER, PASSWORD, VHOST)
            assert cmd == "ERROR"
            assert dict(headers)["message"] == "Bad CONNECT"
            assert body == b"Access refused for user '%s'\n" % USER.encode()
    finally:
        c.close()


@pytest.mark.parametrize("value", ["Bearer abc", "Basic !!!", "Basic " + base64.b64encode(
    b"no-colon").decode()])
def test_http_auth_unusable_authorization(http_auth, value):
    # Not Basic, bad base64, no colon: the upgrade succeeds, then the WebSocket closes with
    # 1011 (RabbitMQ's handler crashes on it).
    c = WsStomp(http_auth.web_stomp_port, header=["Authorization: " + value])
    try:
        assert c.close_status()[0] == 1011
    finally:
        c.close()


def test_http_auth_scheme_in_any_case(http_auth):
    value = "bAsIc " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
    c = WsStomp(http_auth.web_stomp_port, header=["Authorization: " + value])
    try:
        assert c.connect("nobody", "x", VHOST)[0] == "CONNECTED"
    finally:
        c.close()


def test_http_auth_on_the_management_listener(http_auth):
    if http_auth.kind != "pulsed":
        pytest.skip("pulsed's addition: rabbitmq_management serves no WebSocket")
    c = WsStomp(http_auth.http_port, header=auth_header(basic(USER, PASSWORD)))
    try:
        assert c.connect("guest", "not-the-password", VHOST)[0] == "CONNECTED"
        assert session_user(http_auth, c) == USER
    finally:
        c.close()


def test_http_auth_without_authorization_uses_the_default_user(http_auth):
    # No Authorization: stomp.default_user (guest) logs in, whatever CONNECT says.
    c = WsStomp(http_auth.web_stomp_port)
    try:
        cmd, headers, _ = c.connect(USER, "wrong", VHOST)
        assert cmd == "CONNECTED", headers
        assert session_user(http_auth, c) == "guest"
    finally:
        c.close()
