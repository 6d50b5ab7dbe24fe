"""Hostile STOMP input on pulsed and RabbitMQ: bad frames end only their own session (an ERROR
first where the broker sends one) while another client keeps publishing and receiving;
unknown commands are answered and the session goes on, as rabbitmq_stomp does."""
import socket
import time
import uuid

import pytest

from harness.stomp_helpers import Raw, close, connect_target, raw_target


@pytest.fixture
def bystander(pulse_target):
    """A client subscribed to a queue of its own; check() proves it still works."""
    name = "bystander-" + uuid.uuid4().hex[:8]
    c, col = connect_target(pulse_target)
    c.subscribe("/queue/" + name, id="b", headers={"receipt": "r"})
    assert col.receipt() == "r"

    def check():
        body = uuid.uuid4().hex.encode()
        c.send("/queue/" + name, body)
        assert col.message().body == body
    yield check
    close(c)
    pulse_target.delete(queues=[name])


def closes_after_optional_error(r):
    """The session ends; a frame before the close can only be an ERROR."""
    f = r.frame()
    if f is not None:
        assert f[0] == "ERROR", f
        assert r.closed()
    return f


@pytest.mark.parametrize("data", [
    b"SEND\ndestination:/queue/x\ncontent-length:3\n\nabcX\0",  # no NUL after the body
    b"SEND\ndestination:/queue/x\ncontent-length:abc\n\nabc\0",  # bad content-length
    b"SEND\ndestination:/queue/x\nbad\\qescape:1\n\n\0",  # undefined escape
    b"SEND\ndestination\n\n\0",  # header line without a colon
], ids=["no-nul", "bad-content-length", "bad-escape", "no-colon"])
def test_malformed_frame_ends_the_session(pulse_target, bystander, data):
    r = raw_target(pulse_target)
    try:
        r.send(data)
        closes_after_optional_error(r)
    finally:
        r.close()
    bystander()


def test_pulsed_names_the_parse_error(pulse_target, bystander):
    if pulse_target.name != "pulsed":
        pytest.skip("RabbitMQ 3.10 closes on a parse error without an ERROR frame")
    r = raw_target(pulse_target)
    try:
        r.send(b"SEND\ndestination:/queue/x\ncontent-length:3\n\nabcX\0")
        cmd, headers, body = r.frame()
        assert (cmd, dict(headers)["message"]) == ("ERROR", "Missing NUL")
        assert r.closed()
    finally:
        r.close()
    bystander()


def test_oversize_headers_and_frames(pulse_target, bystander):
    if pulse_target.name != "pulsed":
        pytest.skip("RabbitMQ 3.10's STOMP parser has no header or frame size limit")
    for data, message in [
        (b"SEND\ndestination:/queue/x\nbig:" + b"h" * (200 * 1024) + b"\n\n\0",
         "Headers too large"),
        (b"SEND\ndestination:/queue/x\ncontent-length:%d\n\n" % (5 * 1024 * 1024),
         "Frame too large"),
        (b"SEND\n" + b"".join(b"h%d:v\n" % i for i in range(1200)) + b"\n\0",
         "Too many headers"),
    ]:
        r = raw_target(pulse_target)
        try:
            r.send(data)
            cmd, headers, body = r.frame()
            assert (cmd, dict(headers)["message"]) == ("ERROR", message)
            assert r.closed()
        finally:
            r.close()
    bystander()


@pytest.mark.parametrize("data,printed", [
    (b"FOO\n\n\0", b'"FOO"'),
    (b"\x01\x02garb\n\n\0", b"[1,2,103,97,114,98]"),  # Erlang's ~p of a non-printable list
], ids=["unknown", "garbage"])
def test_unknown_command_is_answered(pulse_target, bystander, data, printed):
    r = raw_target(pulse_target)
    try:
        r.send(data)
        cmd, headers, body = r.frame()
        assert (cmd, dict(headers)["message"]) == ("ERROR", "Bad command")
        assert body == b"Could not interpret command " + printed + b"\n"
        r.send(b"BEGIN\ntransaction:t\nreceipt:still-here\n\n\0")
        assert r.frame() == ("RECEIPT", [("receipt-id", "still-here")], b"")
    finally:
        r.close()
    bystander()


def test_half_frames_and_vanishing_clients(pulse_target, bystander):
    # An HTTP request is a frame without its NUL yet: the session waits; then the client goes.
    for data in [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"CONNECT\naccept-version:1.2\nlog"]:
        s = socket.create_connection(("127.0.0.1", pulse_target.stomp_port))
        s.sendall(data)
        s.close()
    bystander()


def test_heartbeats_both_ways(pulse_target):
    c, col = connect_target(pulse_target, heartbeats=(1000, 1000))
    try:
        assert c.is_connected()
        time.sleep(3.5)  # stomp.py sends and checks heart-beats meanwhile
        assert c.is_connected() and not col.disconnected
    finally:
        close(c)


def test_missed_heartbeats_close_the_session(pulse_target):
    r = Raw(pulse_target.stomp_port)
    try:
        r.send(("CONNECT\naccept-version:1.2\nhost:%s\nlogin:%s\npasscode:%s\n"
                "heart-beat:1000,0\n\n\0" % (pulse_target.vhost, pulse_target.user,
                                             pulse_target.password)).encode())
        cmd, headers, body = r.frame()
        assert cmd == "CONNECTED" and dict(headers)["heart-beat"] == "0,1000"
        assert r.closed(timeout=8)  # promised one a second, sent none
    finally:
        r.close()
