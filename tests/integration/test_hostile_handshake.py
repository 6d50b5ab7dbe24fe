"""Hostile and malformed input on raw sockets (no client library):
the protocol header, the handshake and its timeout.

See hostile_common.py for what every case checks.
"""
import socket
import time

import pytest

from rawamqp import (
    CHANNEL_OPEN, CONNECTION_START, CONNECTION_START_OK, CONNECTION_TUNE, CONNECTION_TUNE_OK,
    PROTOCOL_HEADER, RawAMQP, bits, long_, longstr, short, shortstr, table,
)

from hostile_common import (  # noqa: F401 (fixtures)
    assert_all_ok, bystander, expect_connection_close, expect_silent_close, limited,
    limited_bystander, opened, run_concurrently,
)


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
