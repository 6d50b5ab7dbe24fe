"""Hostile and malformed input on raw sockets (no client library):
frame errors, undecodable arguments, unknown classes and methods.

See hostile_common.py for what every case checks.
"""
import time

import pytest

from rawamqp import (
    BASIC_GET, BASIC_PUBLISH, CHANNEL_CLOSE, CHANNEL_CLOSE_OK, CHANNEL_OPEN, CONNECTION_CLOSE_OK,
    CONNECTION_START_OK, CONNECTION_TUNE_OK, FRAME_BODY, FRAME_HEADER, FRAME_HEARTBEAT,
    FRAME_METHOD, QUEUE_DECLARE, QUEUE_DECLARE_OK, Close, ConnectionClosed, RawAMQP, bits,
    content_header, long_, longstr, short, shortstr, table,
)

from hostile_common import (  # noqa: F401 (fixtures)
    bystander, expect_connection_close, limited, limited_bystander, nested_table, opened,
)


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
