"""Hostile and malformed input on raw sockets (no client library).

For every case: what the misbehaving client receives (connection.close with
which code/text, channel.close, or just a closed socket), and that a bystander
connection opened beforehand, and a fresh connection, keep working.

The exact RabbitMQ 3.10 behaviours are recorded in RABBITMQ_NOTES_HOSTILE.md.
"""
import socket
import threading
import time

import pytest

from rawamqp import (
    BASIC_GET, BASIC_PUBLISH, CHANNEL_CLOSE, CHANNEL_CLOSE_OK, CHANNEL_OPEN, CONNECTION_CLOSE_OK,
    CONNECTION_START, CONNECTION_START_OK, CONNECTION_TUNE, CONNECTION_TUNE_OK, FRAME_BODY,
    FRAME_HEADER, FRAME_HEARTBEAT, FRAME_METHOD, PROTOCOL_HEADER, QUEUE_DECLARE, QUEUE_DECLARE_OK,
    Close, ConnectionClosed, RawAMQP, bits, check_broker_healthy, content_header, long_, longstr,
    short, shortstr, table,
)

# Same dict as test_connection.py so that both files share one extra broker
# (brokers are cached per distinct config).
LIMITS = {"heartbeat": 1, "frame_max": 8192, "channel_max": 16,
          "max_message_size": 65536, "handshake_timeout": 2000}


@pytest.fixture(scope="module")
def limited(broker_with):
    return broker_with(LIMITS)


class Bystander:
    """A well-behaved connection opened before the hostile one."""

    def __init__(self, b):
        self.b = b
        self.c = RawAMQP(b.host, b.port).handshake()
        self.c.open_channel(1)
        self.q = "hostile.bystander.%d" % time.monotonic_ns()
        self.c.queue_declare(1, self.q, exclusive=True)
        self.n = 0

    def check(self):
        self.n += 1
        body = b"still-alive-%d" % self.n
        self.c.publish(1, "", self.q, body)
        assert self.c.basic_get(1, self.q) == body, "bystander connection broken"
        check_broker_healthy(self.b.host, self.b.port, "fresh")

    def close(self):
        self.c.close()


@pytest.fixture
def bystander(broker):
    b = Bystander(broker)
    yield b
    b.close()


@pytest.fixture
def limited_bystander(limited):
    b = Bystander(limited)
    yield b
    b.close()


def opened(b, channel=1, **kw):
    c = RawAMQP(b.host, b.port).handshake(**kw)
    if channel:
        c.open_channel(channel)
    return c


def expect_connection_close(c, code, text=None, startswith=None, contains=(), class_method=None,
                            socket_closes=True):
    ev = c.read_until_close(timeout=5)
    assert isinstance(ev, Close), "expected connection.close %d, got %r" % (code, ev)
    assert ev.level == "connection", ev
    assert ev.channel == 0, ev
    assert ev.code == code, ev
    if text is not None:
        assert ev.text == text, ev
    if startswith is not None:
        assert ev.text.startswith(startswith), ev
    for part in contains:
        assert part in ev.text, ev
    if class_method is not None:
        assert (ev.class_id, ev.method_id) == class_method, ev
    if socket_closes:
        # close-ok was sent by read_until_close: the broker must now close the socket.
        assert c.socket_closes_within(5), "socket still open after connection.close/close-ok"
    c.abort()
    return ev


def expect_silent_close(c, timeout=6.0):
    """The broker closes the socket without sending anything (not even connection.close)."""
    t0 = time.monotonic()
    try:
        data = c.read_all_until_eof(timeout)
    except socket.timeout:
        pytest.fail("socket still open after %.1fs" % timeout)
    c.abort()
    assert data == b"", "expected a silent close, got %r" % data[:200]
    return time.monotonic() - t0


def run_concurrently(cases):
    """Run slow cases (each waits for a broker-side delay) in parallel threads.
    cases: {name: fn}; returns {name: result or exception}."""
    results = {}

    def run(name, fn):
        try:
            results[name] = fn()
        except BaseException as e:  # noqa
            results[name] = e

    threads = [threading.Thread(target=run, args=(n, f)) for n, f in cases.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def assert_all_ok(results):
    bad = {k: v for k, v in results.items() if isinstance(v, BaseException)}
    assert not bad, "\n".join("%s: %r" % kv for kv in bad.items())


def nested_table(depth):
    t = long_(0)
    for _ in range(depth):
        inner = shortstr("k") + b"F" + t
        t = long_(len(inner)) + inner
    return t


# ------------------------------------------------------------ protocol header

def test_garbage_instead_of_header_gets_our_header_and_close(broker, bystander):
    c = RawAMQP(broker.host, broker.port)
    c.send(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert c.read_all_until_eof(5) == PROTOCOL_HEADER
    c.abort()
    bystander.check()


@pytest.mark.parametrize("header", [
    b"AMQP\x00\x00\x09\x00",  # 0-9-0 in the 0-9-1 layout
    b"AMQP\x00\x00\x0a\x00",  # a future version
    b"AMQP\x00\x01\x00\x00",  # AMQP 1.0 (no 1.0 support)
    b"AMQP\x03\x01\x00\x00",  # AMQP 1.0 SASL layer
    b"AMQX\x00\x00\x09\x01",  # wrong magic
    b"\x00" * 8,
], ids=["0-9-0", "0-10", "amqp1.0", "amqp1.0-sasl", "bad-magic", "zeros"])
def test_wrong_protocol_header_gets_our_header_and_close(broker, header):
    c = RawAMQP(broker.host, broker.port)
    c.send(header)
    t0 = time.monotonic()
    assert c.read_all_until_eof(5) == PROTOCOL_HEADER
    assert time.monotonic() - t0 < 2, "refusal must be immediate"
    c.abort()


def test_header_followed_by_garbage_in_same_packet_is_ignored_garbage_after(broker):
    # Extra bytes after a wrong header: still just our header and a close.
    c = RawAMQP(broker.host, broker.port)
    c.send(b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 1000)
    assert c.read_all_until_eof(5) == PROTOCOL_HEADER
    c.abort()


# ------------------------------------------------- errors before connection.open

def _start_ok(c, mechanism="PLAIN", response=b"\x00guest\x00guest", props=None):
    c.send(PROTOCOL_HEADER)
    c.read_method(CONNECTION_START)
    c.send_method(0, CONNECTION_START_OK,
                  table(props or {}) + shortstr(mechanism) + longstr(response) + shortstr("en_US"))


def _tune_ok(b, channel_max, frame_max):
    c = RawAMQP(b.host, b.port, timeout=8)
    _start_ok(c)
    c.read_method(CONNECTION_TUNE)
    c.send_method(0, CONNECTION_TUNE_OK, short(channel_max) + long_(frame_max) + short(0))
    c.send_method(0, (10, 40), shortstr("/") + shortstr("") + bits(False))
    return c


def test_handshake_phase_errors_close_socket_silently(broker, bystander):
    """Before connection.open RabbitMQ does not answer protocol errors with
    connection.close: it waits ~3 s (anti-DoS) and closes the socket silently."""

    def garbage_after_header():
        c = RawAMQP(broker.host, broker.port, timeout=8)
        c.send(PROTOCOL_HEADER)
        c.read_method(CONNECTION_START)
        c.send(b"\xff" * 20)
        return expect_silent_close(c)

    def unknown_mechanism():
        c = RawAMQP(broker.host, broker.port, timeout=8)
        _start_ok(c, mechanism="NOPE")
        return expect_silent_close(c)

    def wrong_password_without_capability():
        c = RawAMQP(broker.host, broker.port, timeout=8)
        _start_ok(c, response=b"\x00guest\x00wrong")
        return expect_silent_close(c)

    def tune_ok_instead_of_start_ok():
        c = RawAMQP(broker.host, broker.port, timeout=8)
        c.send(PROTOCOL_HEADER)
        c.read_method(CONNECTION_START)
        c.send_method(0, CONNECTION_TUNE_OK, short(2047) + long_(131072) + short(0))
        return expect_silent_close(c)

    def undecodable_start_ok():
        c = RawAMQP(broker.host, broker.port, timeout=8)
        c.send(PROTOCOL_HEADER)
        c.read_method(CONNECTION_START)
        c.send_method(0, CONNECTION_START_OK, b"\xff\xff\xff\xff")
        return expect_silent_close(c)

    def frame_max_below_4096():
        return expect_silent_close(_tune_ok(broker, 2047, 1000))

    def frame_max_above_server():
        return expect_silent_close(_tune_ok(broker, 2047, 131072 * 2))

    def frame_max_zero():
        return expect_silent_close(_tune_ok(broker, 2047, 0))

    def channel_max_above_server():
        return expect_silent_close(_tune_ok(broker, 4000, 131072))

    def channel_max_zero():
        return expect_silent_close(_tune_ok(broker, 0, 131072))

    results = run_concurrently({f.__name__: f for f in (
        garbage_after_header, unknown_mechanism, wrong_password_without_capability,
        tune_ok_instead_of_start_ok, undecodable_start_ok, frame_max_below_4096,
        frame_max_above_server, frame_max_zero, channel_max_above_server, channel_max_zero)})
    assert_all_ok(results)
    bystander.check()


def test_wrong_password_with_capability_gets_403(broker):
    c = RawAMQP(broker.host, broker.port)
    _start_ok(c, response=b"\x00guest\x00wrong",
              props={"capabilities": {"authentication_failure_close": True}})
    expect_connection_close(
        c, 403, text="ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. "
                     "For details see the broker logfile.", class_method=(0, 0))


def test_channel_open_before_connection_open(broker, bystander):
    c = RawAMQP(broker.host, broker.port)
    _start_ok(c)
    c.read_method(CONNECTION_TUNE)
    c.send_method(0, CONNECTION_TUNE_OK, short(2047) + long_(131072) + short(0))
    c.send_method(1, CHANNEL_OPEN, shortstr(""))
    expect_connection_close(c, 505, text="UNEXPECTED_FRAME - type 1, all octets = <<0,20,0,10,0>>",
                            class_method=(0, 0))
    bystander.check()


def test_unknown_vhost(broker):
    c = RawAMQP(broker.host, broker.port)
    _start_ok(c)
    c.read_method(CONNECTION_TUNE)
    c.send_method(0, CONNECTION_TUNE_OK, short(2047) + long_(131072) + short(0))
    c.send_method(0, (10, 40), shortstr("no-such-vhost") + shortstr("") + bits(False))
    expect_connection_close(c, 530, text="NOT_ALLOWED - vhost no-such-vhost not found",
                            class_method=(10, 40))


# ------------------------------------------------------------ handshake timeout

def test_handshake_timeout(limited, limited_bystander):
    """handshake_timeout = 2000 ms: a client that stalls anywhere before
    connection.open is dropped silently after ~2 s; an open connection is not."""
    b = limited

    def timed(c):
        t0 = time.monotonic()
        try:
            data = c.read_all_until_eof(6)
        except socket.timeout:
            raise AssertionError("not closed after 6 s")
        return time.monotonic() - t0, data

    def send_nothing():
        c = RawAMQP(b.host, b.port, timeout=8)
        took, data = timed(c)
        assert data == b"", data
        return took

    def partial_header():
        c = RawAMQP(b.host, b.port, timeout=8)
        c.send(b"AMQ")
        took, data = timed(c)
        assert data == b"", data
        return took

    def header_only():
        c = RawAMQP(b.host, b.port, timeout=8)
        c.send(PROTOCOL_HEADER)
        c.read_method(CONNECTION_START)
        took, data = timed(c)
        assert data == b"", data
        return took

    def stall_in_tune():
        c = RawAMQP(b.host, b.port, timeout=8)
        _start_ok(c)
        c.read_method(CONNECTION_TUNE)
        took, data = timed(c)
        assert data == b"", data
        return took

    def stall_before_open():
        c = RawAMQP(b.host, b.port, timeout=8)
        _start_ok(c)
        c.read_method(CONNECTION_TUNE)
        c.send_method(0, CONNECTION_TUNE_OK, short(16) + long_(8192) + short(0))
        took, data = timed(c)
        assert data == b"", data
        return took

    def open_connection_survives():
        c = RawAMQP(b.host, b.port, timeout=8).handshake(heartbeat=0)
        time.sleep(3.5)
        c.open_channel(1)
        c.close()
        return "open"

    t0 = time.monotonic()
    results = run_concurrently({f.__name__: f for f in (
        send_nothing, partial_header, header_only, stall_in_tune, stall_before_open,
        open_connection_survives)})
    assert_all_ok(results)
    for name, took in results.items():
        if name != "open_connection_survives":
            assert 1.5 <= took <= 4.5, "%s closed after %.2fs, want ~2s" % (name, took)
    assert time.monotonic() - t0 < 10
    limited_bystander.check()


# ------------------------------------------------------------------ frame errors

def test_bad_frame_end(broker, bystander):
    c = opened(broker)
    c.send_method(1, QUEUE_DECLARE, RawAMQP.queue_declare_args("x"), end=0x00)
    expect_connection_close(c, 501, startswith="FRAME_ERROR - type 1, ",
                            contains=("invalid_frame_end_marker",), class_method=(0, 0),
                            socket_closes=False)
    bystander.check()


def test_bad_frame_end_socket_is_closed(broker):
    c = opened(broker, channel=0)
    c.send_frame(FRAME_HEARTBEAT, 0, b"", end=0x41)
    ev = expect_connection_close(c, 501, text="FRAME_ERROR - type 8, all octets = <<>>: "
                                              "{invalid_frame_end_marker,65}",
                                 class_method=(0, 0), socket_closes=True)
    assert ev.code == 501


def test_frame_larger_than_server_frame_max(limited, limited_bystander):
    c = opened(limited)
    assert c.tune[1] == 8192
    c.send_frame(FRAME_BODY, 1, b"x" * 9000)
    expect_connection_close(c, 501, text="FRAME_ERROR - type 3, all octets = <<>>: "
                                         "{frame_too_large,9000,8184}",
                            class_method=(0, 0), socket_closes=False)
    limited_bystander.check()


def test_frame_larger_than_client_negotiated_frame_max(broker, bystander):
    c = opened(broker, frame_max=4096)
    c.send_frame(FRAME_METHOD, 1, b"\x00\x32\x00\x0a" + b"x" * 5000)
    expect_connection_close(c, 501, text="FRAME_ERROR - type 1, all octets = <<>>: "
                                         "{frame_too_large,5004,4088}",
                            class_method=(0, 0), socket_closes=False)
    bystander.check()


def test_frames_up_to_frame_max_are_fine(limited):
    c = opened(limited)
    q = "hostile.fm.%d" % time.monotonic_ns()
    c.queue_declare(1, q, exclusive=True)
    body = bytes(range(256)) * 60  # 15360 bytes: two body frames of frame_max-8 and a rest
    c.publish(1, "", q, body, max_body_frame=8192 - 8)
    assert c.basic_get(1, q) == body
    c.close()


@pytest.mark.parametrize("ftype,channel,payload,text", [
    (9, 1, b"xx", 'FRAME_ERROR - type 9, all octets = <<"xx">>: unknown_frame'),
    (0, 1, b"xx", 'FRAME_ERROR - type 0, all octets = <<"xx">>: unknown_frame'),
    (FRAME_HEARTBEAT, 0, b"xx", 'FRAME_ERROR - type 8, all octets = <<"xx">>: unknown_frame'),
    (FRAME_METHOD, 1, b"\x00\x32", "FRAME_ERROR - type 1, all octets = <<0,50>>: unknown_frame"),
    (FRAME_METHOD, 1, b"", "FRAME_ERROR - type 1, all octets = <<>>: unknown_frame"),
], ids=["type9", "type0", "heartbeat-with-payload", "method-2-bytes", "method-empty"])
def test_unknown_or_short_frames(broker, bystander, ftype, channel, payload, text):
    c = opened(broker)
    c.send_frame(ftype, channel, payload)
    expect_connection_close(c, 501, text=text, class_method=(0, 0), socket_closes=False)
    bystander.check()


# ------------------------------------------------------- undecodable arguments

@pytest.mark.parametrize("cm,args", [
    # huge declared field-table length
    (QUEUE_DECLARE, short(0) + shortstr("ht.q") + bits(False, False, False, True, False)
     + long_(0xFFFFFFF0) + b"\x01kSab"),
    # field-table length beyond the frame
    (QUEUE_DECLARE, short(0) + shortstr("ht.q") + bits(False, False, False, True, False)
     + long_(20) + b"\x01kI\x00\x00\x00\x01"),
    # short string length overflowing the frame
    (QUEUE_DECLARE, short(0) + b"\xffabc"),
    (BASIC_PUBLISH, short(0) + b"\x00" + b"\xf0abc" + b"\x00"),
    # truncated arguments
    (QUEUE_DECLARE, short(0)),
    # trailing garbage after the last argument
    (QUEUE_DECLARE, RawAMQP.queue_declare_args("tg.q", auto_delete=True) + b"garbage"),
], ids=["huge-table-length", "table-past-frame", "shortstr-overflow", "shortstr-overflow-publish",
        "truncated", "trailing-garbage"])
def test_undecodable_method_arguments(broker, bystander, cm, args):
    c = opened(broker)
    c.send_method(1, cm, args)
    octets = ",".join(str(x) for x in args)
    expect_connection_close(c, 501, text="FRAME_ERROR - cannot decode <<%s>>" % octets,
                            class_method=cm)
    bystander.check()


def test_deeply_nested_field_table_does_not_crash(broker, bystander):
    """RabbitMQ accepts a field table nested ~18700 levels deep (as deep as fits
    in one 128 KiB frame). A broker may accept it too, or refuse it with a clean
    connection.close; it must not crash or drop the connection silently."""
    depth = (131072 - 200) // 7
    c = opened(broker)
    q = "hostile.deep.%d" % time.monotonic_ns()
    c.send_method(1, QUEUE_DECLARE, short(0) + shortstr(q)
                  + bits(False, False, True, False, False) + nested_table(depth))
    try:
        f = c.read_method(timeout=10)
    except ConnectionClosed:
        pytest.fail("connection dropped without connection.close")
    if f.method == QUEUE_DECLARE_OK:
        assert f.args().shortstr() == q
        c.open_channel(2)  # connection still usable
        c.close()
    else:
        ev = Close.from_frame(f)
        assert ev.level == "connection" and ev.code in (501, 502), ev
    bystander.check()


@pytest.mark.parametrize("depth", [32, 1000])
def test_deeply_nested_headers_round_trip(broker, bystander, depth):
    """A nested `headers` table comes back byte for byte from basic.get.
    RabbitMQ does this at any depth; at depth 1000 a broker may instead refuse
    the content header with a clean connection.close 501/502."""
    t = nested_table(depth)
    c = opened(broker)
    q = "hostile.deephdr.%d" % time.monotonic_ns()
    c.queue_declare(1, q, exclusive=True)
    c.send_method(1, BASIC_PUBLISH, RawAMQP.publish_args("", q))
    c.send_frame(FRAME_HEADER, 1, content_header(3, props_flags=1 << 13, props=t))
    c.send_frame(FRAME_BODY, 1, b"abc")
    c.send_method(1, BASIC_GET, short(0) + shortstr(q) + bits(True))
    try:
        f = c.read_method(timeout=5)
    except ConnectionClosed:
        pytest.fail("connection dropped without connection.close")
    if f.method != (60, 71) and depth > 64:
        ev = Close.from_frame(f)
        assert ev.level == "connection" and ev.code in (501, 502), ev
        c.abort()
    else:
        assert f.method == (60, 71), f
        h = c.read_frame()
        assert h.type == FRAME_HEADER
        assert t in h.payload, "nested headers table not delivered intact"
        assert c.read_frame().payload == b"abc"
        c.close()
    bystander.check()


def test_unknown_field_type_in_table(broker, bystander):
    """RabbitMQ's reader crashes on an unknown field-value type: the socket is
    closed without connection.close. A clean connection.close (501/502) is also
    acceptable; the connection must end either way."""
    c = opened(broker)
    c.send_method(1, QUEUE_DECLARE, short(0) + shortstr("bft.q")
                  + bits(False, False, False, True, False) + long_(4) + b"\x01kZ\x00")
    ev = c.read_until_close(timeout=5)
    if ev != "socket-closed":
        assert isinstance(ev, Close) and ev.level == "connection" and ev.code in (501, 502), ev
        assert c.socket_closes_within(5)
    c.abort()
    bystander.check()


# ----------------------------------------------------- unknown class / method

@pytest.mark.parametrize("channel,cm", [(1, (50, 99)), (1, (99, 10)), (0, (10, 99))],
                         ids=["unknown-method", "unknown-class", "unknown-connection-method"])
def test_unknown_class_or_method(broker, bystander, channel, cm):
    """RabbitMQ 3.10: the connection process crashes ({unknown_method_id,..}),
    the socket is closed with no connection.close. A connection.close with
    503 COMMAND_INVALID / 540 NOT_IMPLEMENTED is also accepted."""
    c = opened(broker)
    c.send_method(channel, cm, b"")
    ev = c.read_until_close(timeout=5)
    if ev != "socket-closed":
        assert isinstance(ev, Close) and ev.level == "connection" and ev.code in (503, 540), ev
        assert c.socket_closes_within(5)
    c.abort()
    bystander.check()


@pytest.mark.parametrize("channel,cm,args,code,text", [
    (0, CONNECTION_CLOSE_OK, b"", 504,
     "CHANNEL_ERROR - unexpected method in connection state running"),
    (0, CONNECTION_START_OK, table({}) + shortstr("PLAIN") + longstr(b"\0guest\0guest") + shortstr("en_US"),
     504, "CHANNEL_ERROR - unexpected method in connection state running"),
    (0, CHANNEL_OPEN, shortstr(""), 504,
     "CHANNEL_ERROR - unexpected method in connection state running"),
    (1, CHANNEL_CLOSE_OK, b"", 503, "COMMAND_INVALID - unimplemented method"),
    (1, CONNECTION_TUNE_OK, short(2047) + long_(131072) + short(0), 503,
     "COMMAND_INVALID - unimplemented method"),
    (1, CHANNEL_OPEN, shortstr(""), 504, "CHANNEL_ERROR - second 'channel.open' seen"),
    (7, QUEUE_DECLARE, RawAMQP.queue_declare_args("x"), 504,
     "CHANNEL_ERROR - expected 'channel.open'"),
], ids=["close-ok-unsolicited", "start-ok-again", "channel-open-on-0", "channel-close-ok-unsolicited",
        "connection-method-on-channel-1", "second-channel-open", "channel-never-opened"])
def test_method_in_wrong_place(broker, bystander, channel, cm, args, code, text):
    c = opened(broker)
    c.send_method(channel, cm, args)
    expect_connection_close(c, code, text=text, class_method=cm)
    bystander.check()


def test_method_on_closed_channel(broker, bystander):
    c = opened(broker)
    c.send_method(1, CHANNEL_CLOSE, short(200) + shortstr("") + short(0) + short(0))
    c.read_method(CHANNEL_CLOSE_OK)
    c.publish(1, "", "x", b"abc")
    expect_connection_close(c, 504, text="CHANNEL_ERROR - expected 'channel.open'",
                            class_method=BASIC_PUBLISH)
    bystander.check()


# ---------------------------------------------------- content frames misplaced

UNEXPECTED_NON_METHOD = "UNEXPECTED_FRAME - expected method frame, got non method frame instead"
UNEXPECTED_NON_HEADER = ("UNEXPECTED_FRAME - expected content header for class 60, "
                         "got non content header frame instead")


def _publish_method(c, q="hostile.nowhere"):
    c.send_method(1, BASIC_PUBLISH, RawAMQP.publish_args("", q))


CONTENT_CASES = [
    ("header-without-publish", UNEXPECTED_NON_METHOD, (0, 0)),
    ("body-without-publish", UNEXPECTED_NON_METHOD, (0, 0)),
    ("body-before-header", UNEXPECTED_NON_HEADER, BASIC_PUBLISH),
    ("method-instead-of-header", UNEXPECTED_NON_HEADER, BASIC_PUBLISH),
    ("header-of-wrong-class", "UNEXPECTED_FRAME - expected content header for class 60, "
                              "got one for class 50 instead", BASIC_PUBLISH),
    ("body-after-zero-size-header", UNEXPECTED_NON_METHOD, (0, 0)),
    ("body-on-channel-0", 'UNEXPECTED_FRAME - type 3, all octets = <<"abc">>', (0, 0)),
    ("header-on-channel-0", "UNEXPECTED_FRAME - type 2, all octets = "
                            "<<0,60,0,0,0,0,0,0,0,0,0,3,0,0>>", (0, 0)),
    ("heartbeat-on-channel-1", "UNEXPECTED_FRAME - type 8, all octets = <<>>", (0, 0)),
]


@pytest.mark.parametrize("case,text,cm", CONTENT_CASES, ids=[c[0] for c in CONTENT_CASES])
def test_content_frames_out_of_order(broker, bystander, case, text, cm):
    c = opened(broker)
    if case == "header-without-publish":
        c.send_frame(FRAME_HEADER, 1, content_header(3))
    elif case == "body-without-publish":
        c.send_frame(FRAME_BODY, 1, b"abc")
    elif case == "body-before-header":
        _publish_method(c)
        c.send_frame(FRAME_BODY, 1, b"abc")
    elif case == "method-instead-of-header":
        _publish_method(c)
        c.send_method(1, QUEUE_DECLARE, RawAMQP.queue_declare_args("x"))
    elif case == "header-of-wrong-class":
        _publish_method(c)
        c.send_frame(FRAME_HEADER, 1, content_header(3, class_id=50))
    elif case == "body-after-zero-size-header":
        _publish_method(c)
        c.send_frame(FRAME_HEADER, 1, content_header(0))
        c.send_frame(FRAME_BODY, 1, b"abc")
    elif case == "body-on-channel-0":
        c.send_frame(FRAME_BODY, 0, b"abc")
    elif case == "header-on-channel-0":
        c.send_frame(FRAME_HEADER, 0, content_header(3))
    elif case == "heartbeat-on-channel-1":
        c.send_frame(FRAME_HEARTBEAT, 1, b"")
    expect_connection_close(c, 505, text=text, class_method=cm)
    bystander.check()


def test_body_larger_than_declared(broker, bystander):
    """RabbitMQ does not notice the overrun itself: the channel keeps waiting for
    'the rest' of the body, the message is never routed, and the next method on
    the channel gets 505 'expected content body'. A broker that refuses the
    overrun at once with a 505 also passes; the message must never be delivered."""
    c = opened(broker)
    q = "hostile.overrun.%d" % time.monotonic_ns()
    c.queue_declare(1, q)
    _publish_method(c, q)
    c.send_frame(FRAME_HEADER, 1, content_header(3))
    c.send_frame(FRAME_BODY, 1, b"abcdef")
    try:
        c.send_method(1, QUEUE_DECLARE, RawAMQP.queue_declare_args(q, passive=True))
    except OSError:
        pass
    ev = c.read_until_close(timeout=5)
    assert isinstance(ev, Close) and ev.level == "connection" and ev.code == 505, ev
    assert ev.text.startswith("UNEXPECTED_FRAME - "), ev
    if broker.target == "rabbitmq":
        assert ev.text == "UNEXPECTED_FRAME - expected content body, got non content body frame instead"
        assert (ev.class_id, ev.method_id) == BASIC_PUBLISH
    c.abort()
    other = opened(broker)
    try:
        assert other.basic_get(1, q) is None, "overrun message was delivered"
        other.send_method(1, (50, 40), short(0) + shortstr(q) + bits(False, False, False))
        other.read_method((50, 41))
    finally:
        other.close()
    bystander.check()


def test_body_split_over_empty_frames_is_fine(broker):
    c = opened(broker)
    q = "hostile.emptybody.%d" % time.monotonic_ns()
    c.queue_declare(1, q, exclusive=True)
    _publish_method(c, q)
    c.send_frame(FRAME_HEADER, 1, content_header(3))
    c.send_frame(FRAME_BODY, 1, b"")
    c.send_frame(FRAME_BODY, 1, b"a")
    c.send_frame(FRAME_BODY, 1, b"bc")
    assert c.basic_get(1, q) == b"abc"
    c.close()


# ------------------------------------------------------------ max_message_size

def test_message_larger_than_max_message_size(limited, limited_bystander):
    c = opened(limited)
    q = "hostile.maxmsg.%d" % time.monotonic_ns()
    c.queue_declare(1, q, exclusive=True)
    c.publish(1, "", q, b"x" * 65536)
    assert c.basic_get(1, q) == b"x" * 65536
    c.publish(1, "", q, b"y" * 65537)
    ev = c.read_until_close(timeout=5)
    assert isinstance(ev, Close) and ev.level == "channel" and ev.channel == 1, ev
    assert ev.code == 406
    assert ev.text == "PRECONDITION_FAILED - message size 65537 is larger than configured max size 65536"
    assert (ev.class_id, ev.method_id) == BASIC_PUBLISH
    c.send_method(1, CHANNEL_CLOSE_OK)
    # the connection survives a channel-level error
    c.open_channel(2)
    assert c.basic_get(2, q) is None
    c.close()
    limited_bystander.check()


# ------------------------------------------------------------------ channel_max

def test_channel_max_counts_open_channels(limited, limited_bystander):
    c = opened(limited, channel=0)
    assert c.tune[0] == 16
    for n in range(1, 17):
        c.open_channel(n)
    c.send_method(17, CHANNEL_OPEN, shortstr(""))
    expect_connection_close(
        c, 530, text="NOT_ALLOWED - number of channels opened (16) has reached the "
                     "negotiated channel_max (16)", class_method=(0, 0))
    limited_bystander.check()


def test_channel_max_negotiated_by_client(broker, bystander):
    c = opened(broker, channel=0, channel_max=3)
    for n in (1, 2, 3):
        c.open_channel(n)
    # closing one frees a slot
    c.send_method(2, CHANNEL_CLOSE, short(200) + shortstr("") + short(0) + short(0))
    c.read_method(CHANNEL_CLOSE_OK)
    c.open_channel(2)
    c.send_method(3, CHANNEL_CLOSE, short(200) + shortstr("") + short(0) + short(0))
    c.read_method(CHANNEL_CLOSE_OK)
    c.open_channel(3)
    c.send_method(1, (60, 10), long_(0) + short(0) + bits(False))  # basic.qos, still fine
    c.read_method((60, 11))
    c.send_method(4, CHANNEL_OPEN, shortstr(""))
    expect_connection_close(
        c, 530, text="NOT_ALLOWED - number of channels opened (3) has reached the "
                     "negotiated channel_max (3)", class_method=(0, 0))
    bystander.check()


def test_channel_error_keeps_connection(broker):
    """Sanity: a channel-level error (404 on a passive declare) closes only the channel."""
    c = opened(broker)
    c.send_method(1, QUEUE_DECLARE, RawAMQP.queue_declare_args("hostile.missing.queue", passive=True))
    ev = c.read_until_close(timeout=5)
    assert isinstance(ev, Close) and ev.level == "channel", ev
    assert ev.code == 404
    assert ev.text == "NOT_FOUND - no queue 'hostile.missing.queue' in vhost '/'"
    c.send_method(1, CHANNEL_CLOSE_OK)
    c.open_channel(1)
    c.close()
