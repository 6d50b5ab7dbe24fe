"""STOMP against pulsed and RabbitMQ 3.10 (rabbitmq_stomp), one run: CONNECT, each destination
kind, receipts, login failures. Every assertion holds on both brokers."""
import uuid

import pytest

from harness.stomp_helpers import Raw, close, connect_target as connect, raw_target


@pytest.fixture
def name():
    return "stomp-" + uuid.uuid4().hex[:10]


def test_connected_frame(pulse_target):
    r = Raw(pulse_target.stomp_port)
    try:
        cmd, headers, body = r.connect(pulse_target.user, pulse_target.password, pulse_target.vhost)
        assert cmd == "CONNECTED"
        h = dict(headers)
        assert [k for k, _ in headers] == ["server", "session", "heart-beat", "version"]
        assert h["version"] == "1.2" and h["heart-beat"] == "0,0"
        assert h["session"].startswith("session-")
    finally:
        r.close()


def test_version_mismatch(pulse_target):
    r = Raw(pulse_target.stomp_port)
    try:
        r.send(b"CONNECT\naccept-version:2.0\nlogin:guest\npasscode:guest\n\n\0")
        cmd, headers, body = r.frame()
        assert cmd == "ERROR" and dict(headers)["message"] == "Version mismatch"
        assert body == b"Supported versions are 1.0,1.1,1.2\n"
    finally:
        r.close()


def test_queue_destination(pulse_target, name):
    c, col = connect(pulse_target)
    try:
        c.send("/queue/" + name, b"hello", headers={"receipt": "r1"})
        assert col.receipt() == "r1"
        c.subscribe("/queue/" + name, id="s1", ack="auto")
        m = col.message()
        assert m.body == b"hello"
        assert m.headers["destination"] == "/queue/" + name
        assert m.headers["subscription"] == "s1"
        assert m.headers["redelivered"] == "false"
        assert m.headers["message-id"].startswith("T_s1@@session-")
        assert "ack" not in m.headers
        q = pulse_target.api().get("/api/queues/%s/%s" % (pulse_target.vhost, name)).json
        assert (q["durable"], q["exclusive"], q["auto_delete"]) == (True, False, False)
    finally:
        close(c)
        pulse_target.delete(queues=[name])


def test_topic_destination_fans_out(pulse_target, name):
    a, acol = connect(pulse_target)
    b, bcol = connect(pulse_target)
    try:
        a.subscribe("/topic/%s.*" % name, id="a", headers={"receipt": "ra"})
        b.subscribe("/topic/%s.#" % name, id="b", headers={"receipt": "rb"})
        assert acol.receipt() == "ra" and bcol.receipt() == "rb"
        a.send("/topic/%s.x" % name, b"t1")
        for col in (acol, bcol):
            m = col.message()
            assert m.body == b"t1" and m.headers["destination"] == "/topic/%s.x" % name
    finally:
        close(a)
        close(b)


def test_exchange_destination_with_pattern(pulse_target, name):
    with pulse_target.channel() as ch:
        ch.exchange_declare(name, "direct")
    c, col = connect(pulse_target)
    try:
        c.subscribe("/exchange/%s/green" % name, id="x", headers={"receipt": "r"})
        assert col.receipt() == "r"
        c.send("/exchange/%s/red" % name, b"no")
        c.send("/exchange/%s/green" % name, b"yes")
        m = col.message()
        assert m.body == b"yes" and m.headers["destination"] == "/exchange/%s/green" % name
        col.no_message()
    finally:
        close(c)
        pulse_target.delete(exchanges=[name])


def test_amq_queue_destination_and_missing_queue(pulse_target, name):
    with pulse_target.channel() as ch:
        ch.queue_declare(name)
        ch.basic_publish("", name, b"from amqp")
    c, col = connect(pulse_target)
    try:
        c.subscribe("/amq/queue/" + name, id="q")
        assert col.message().body == b"from amqp"
        c.subscribe("/amq/queue/%s-missing" % name, id="m")
        e = col.error()
        assert e.headers["message"] == "not_found"
        assert e.body == ("NOT_FOUND - no queue '%s-missing' in vhost 'pulse-test'" % name).encode()
    finally:
        close(c)
        pulse_target.delete(queues=[name])


def test_missing_exchange_is_an_error_and_a_close(pulse_target, name):
    r = raw_target(pulse_target)
    try:
        r.send(("SEND\ndestination:/exchange/%s\n\nbody\0" % name).encode())
        cmd, headers, body = r.frame()
        assert cmd == "ERROR" and dict(headers)["message"] == "not_found"
        assert body == ("NOT_FOUND - no exchange '%s' in vhost 'pulse-test'" % name).encode()
        assert r.closed()
    finally:
        r.close()


def test_receipts_on_every_frame_and_disconnect(pulse_target, name):
    r = raw_target(pulse_target)
    try:
        r.send(("SUBSCRIBE\ndestination:/queue/%s\nid:1\nreceipt:a\n\n\0" % name).encode())
        assert r.frame() == ("RECEIPT", [("receipt-id", "a")], b"")
        r.send(b"UNSUBSCRIBE\nid:1\nreceipt:b\n\n\0")
        assert r.frame() == ("RECEIPT", [("receipt-id", "b")], b"")
        r.send(b"DISCONNECT\nreceipt:bye\n\n\0")
        assert r.frame() == ("RECEIPT", [("receipt-id", "bye")], b"")
        assert r.closed()
    finally:
        r.close()
        pulse_target.delete(queues=[name])


@pytest.mark.parametrize("login,vhost,detail", [
    ("guest:wrong", "/", "Access refused for user 'guest'\n"),
    ("nobody:x", "/", "Access refused for user 'nobody'\n"),
    ("alice:alice-secret1", "no-such-vhost", "Virtual host 'no-such-vhost' access denied"),
])
def test_login_failures(pulse_target, login, vhost, detail):
    user, password = login.split(":")
    r = Raw(pulse_target.stomp_port)
    try:
        cmd, headers, body = r.connect(user, password, host=vhost)
        assert cmd == "ERROR" and dict(headers)["message"] == "Bad CONNECT"
        assert body == detail.encode()
        # The session stays unauthenticated: anything else is refused.
        r.send(b"SEND\ndestination:/queue/x\n\n\0")
        cmd, headers, body = r.frame()
        assert (cmd, dict(headers)["message"]) == ("ERROR", "Illegal command")
        assert body == b"You must log in using CONNECT first"
    finally:
        r.close()


def test_destination_errors(pulse_target):
    r = raw_target(pulse_target)
    try:
        cases = [
            (b"SEND\ndestination:/bogus/x\n\n\0", "Unknown destination"),
            (b"SEND\ndestination:/queue/\n\n\0", "Invalid destination"),
            (b"SEND\ndestination:/temp-queue/t\n\n\0", "Invalid destination"),
            (b"SEND\n\nx\0", "Missing destination"),
            (b"SUBSCRIBE\ndestination:/topic/t\ndurable:true\n\n\0", "Missing Header"),
            (b"UNSUBSCRIBE\nid:nope\n\n\0", "No subscription found"),
            (b"BEGIN\n\n\0", "Missing transaction"),
            (b"COMMIT\ntransaction:none\n\n\0", "Bad transaction"),
        ]
        bodies = []
        for frame, message in cases:
            r.send(frame)
            cmd, headers, body = r.frame()
            assert (cmd, dict(headers)["message"]) == ("ERROR", message), frame
            bodies.append(body)
        assert bodies[2] == b"'/temp-queue/t' is not a valid destination for 'SEND'\n"
        assert bodies[3] == b"\"SEND\" must include a 'destination' header\n"
        assert bodies[5] == (b"UNSUBSCRIBE must refer to an existing subscription.\n"
                             b"Subscription to \"id='nope'\" not found.\n")
        assert bodies[7] == b"Invalid transaction identifier: \"none\"\n"
        # None of these closes the session.
        r.send(b"BEGIN\ntransaction:t\nreceipt:ok\n\n\0")
        assert r.frame() == ("RECEIPT", [("receipt-id", "ok")], b"")
    finally:
        r.close()
