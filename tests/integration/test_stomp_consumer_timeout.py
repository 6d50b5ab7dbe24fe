"""consumer_timeout reaches STOMP and Web-STOMP sessions, which RabbitMQ 3.10's plugins run on
an AMQP channel (number 1): when the session's oldest MESSAGE of an ack:client or
client-individual subscription waits for its ACK longer than the timeout, the channel's 406
ends the session (ERROR precondition_failed with RabbitMQ's text, then the close) and its
unacked messages go back to the queue, redelivered. ACKs in time and ack:auto never time out.
On RabbitMQ the node is a private one with rabbitmq_stomp and rabbitmq_web_stomp."""
import time

import pytest
import websocket

from harness.broker import RabbitBroker, target_name
from harness.stomp_helpers import Raw
from harness.util import unique
from harness.web_stomp import WsStomp

TIMEOUT_MS = 1000
TEXT = (b"PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out. Timeout value "
        b"used: 1000 ms. This timeout value can be configured, see consumers doc guide to learn "
        b"more")
ERROR = ("ERROR", [("message", "precondition_failed"), ("content-type", "text/plain"),
                   ("version", "1.0,1.1,1.2"), ("content-length", str(len(TEXT)))], TEXT)


@pytest.fixture(scope="module")
def tbroker(broker_with, _broker_registry):
    config = {"consumer_timeout": TIMEOUT_MS}
    if target_name() != "rabbitmq":
        return broker_with(config)  # pulsed: the node test_consumer_timeout.py uses
    key = ("stomp-consumer-timeout", "rabbitmq")
    if key not in _broker_registry:
        _broker_registry[key] = RabbitBroker(
            config, plugins=["rabbitmq_stomp", "rabbitmq_web_stomp"]).start()
    return _broker_registry[key]


def session(b):
    r = Raw(b.stomp_port)
    assert r.connect()[0] == "CONNECTED"
    return r


def subscribe(r, q, ack, sub_id="s", extra=""):
    r.send(("SUBSCRIBE\ndestination:/queue/%s\nid:%s\nack:%s\n%sreceipt:sub-%s\n\n\0"
            % (q, sub_id, ack, extra, sub_id)).encode())
    assert r.frame() == ("RECEIPT", [("receipt-id", "sub-" + sub_id)], b"")


def send(r, q, bodies):
    for b in bodies:
        r.send(("SEND\ndestination:/queue/%s\n\n%s\0" % (q, b)).encode())


def messages(r, n):
    out = []
    for _ in range(n):
        cmd, headers, body = r.frame()
        assert cmd == "MESSAGE", (cmd, headers, body)
        out.append((dict(headers), body))
    return out


def remaining(b, q):
    """What the queue holds, (body, redelivered) each, read by a fresh ack:auto session, which
    then deletes the queue."""
    r = session(b)
    try:
        n = b.connect()
        try:
            depth = n.channel().queue_declare(q, passive=True).method.message_count
        finally:
            n.close()
        r.send(("SUBSCRIBE\ndestination:/queue/%s\nid:s\n\n\0" % q).encode())
        got = [(body, h["redelivered"] == "true") for h, body in messages(r, depth)]
    finally:
        r.close()
    n = b.connect()
    n.channel().queue_delete(q)
    n.close()
    return got


def until_close(c):
    """The data a WsStomp receives until the server's close frame, and the close's (code,
    reason)."""
    data = c.buf
    while True:
        fr = c.ws.recv_frame()
        if fr.opcode == websocket.ABNF.OPCODE_CLOSE:
            code = int.from_bytes(fr.data[:2], "big") if len(fr.data) >= 2 else None
            return data, (code, fr.data[2:].decode(errors="replace"))
        data += fr.data


@pytest.mark.parametrize("ack", ["client", "client-individual"])
def test_an_unacked_message_ends_the_session_and_is_requeued(tbroker, ack):
    q = unique("stomp-ct")
    r = session(tbroker)
    try:
        subscribe(r, q, ack)
        send(r, q, ["a", "b"])
        assert [body for _h, body in messages(r, 2)] == [b"a", b"b"]
        start = time.time()
        assert r.frame(timeout=15) == ERROR
        assert time.time() - start >= TIMEOUT_MS / 1000.0 * 0.8
        assert r.frame() is None, "the connection is closed after the ERROR"
    finally:
        r.close()
    assert remaining(tbroker, q) == [(b"a", True), (b"b", True)]


def test_the_oldest_unacked_message_decides(tbroker):
    """Acking the later of two messages (client-individual) does not save the session."""
    q = unique("stomp-ct-oldest")
    r = session(tbroker)
    try:
        subscribe(r, q, "client-individual")
        send(r, q, ["old", "new"])
        (_h_old, _), (h_new, _) = messages(r, 2)
        r.send(("ACK\nid:%s\nreceipt:acked\n\n\0" % h_new["ack"]).encode())
        assert r.frame() == ("RECEIPT", [("receipt-id", "acked")], b"")
        assert r.frame(timeout=15) == ERROR
        assert r.frame() is None
    finally:
        r.close()
    assert remaining(tbroker, q) == [(b"old", True)]


def test_acks_in_time_and_auto_ack_keep_the_session(tbroker):
    """One message at a time acked 0.3 s after it came, for 2.4 s, while an ack:auto
    subscription holds nothing to ack: past the timeout twice over, the session goes on."""
    q, qa = unique("stomp-ct-slow"), unique("stomp-ct-auto")
    r = session(tbroker)
    try:
        subscribe(r, q, "client-individual", "slow", "prefetch-count:1\n")
        subscribe(r, qa, "auto", "auto")
        send(r, qa, ["x"])
        assert messages(r, 1)[0][1] == b"x"
        send(r, q, ["m%d" % i for i in range(8)])
        for i in range(8):
            headers, body = messages(r, 1)[0]
            assert body == b"m%d" % i
            time.sleep(0.3)
            r.send(("ACK\nid:%s\n\n\0" % headers["ack"]).encode())
        time.sleep(TIMEOUT_MS / 1000.0 * 1.5)
        r.send(b"SEND\ndestination:/queue/%s\nreceipt:alive\n\nlast\0" % qa.encode())
        frames = [r.frame(), r.frame()]
        assert ("RECEIPT", [("receipt-id", "alive")], b"") in frames
        assert [f[2] for f in frames if f[0] == "MESSAGE"] == [b"last"]
    finally:
        r.close()
    assert remaining(tbroker, q) == []
    assert remaining(tbroker, qa) == []


def test_web_stomp_session_ends_too(tbroker):
    """Over Web-STOMP the WebSocket closes with 1000 "STOMP died" and the message is
    requeued. RabbitMQ's handler closes before it writes the ERROR (its amqp_death ERRORs never
    reach a Web-STOMP client); pulsed sends the ERROR first."""
    q = unique("ws-ct")
    c = WsStomp(tbroker.web_stomp_port)
    try:
        assert c.connect("guest", "guest", "/")[0] == "CONNECTED"
        c.send("SUBSCRIBE\ndestination:/queue/%s\nid:s\nack:client-individual\n\n\0" % q)
        c.send("SEND\ndestination:/queue/%s\n\nw\0" % q)
        cmd, _headers, body = c.frame()
        assert (cmd, body) == ("MESSAGE", b"w")
        start = time.time()
        c.ws.settimeout(15)
        after, status = until_close(c)
        assert status == (1000, "STOMP died")
        assert time.time() - start >= TIMEOUT_MS / 1000.0 * 0.8
    finally:
        c.close()
    after = after.lstrip(b"\n")  # the MESSAGE's trailing EOL
    if target_name() == "rabbitmq":
        assert after == b""
    else:
        assert after.startswith(b"ERROR\nmessage:precondition_failed\n") and TEXT in after
    assert remaining(tbroker, q) == [(b"w", True)]
