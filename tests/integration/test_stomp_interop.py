"""A message crosses between AMQP (pika) and STOMP intact, both ways, with RabbitMQ's header
mapping: the same frames and properties from pulsed and from RabbitMQ 3.10."""
import re
import uuid

import pika
import pytest

from harness.stomp_helpers import raw_target


@pytest.fixture
def queue(pulse_target):
    name = "stomp-x-" + uuid.uuid4().hex[:10]
    with pulse_target.channel() as ch:
        ch.queue_declare(name)
    yield name
    pulse_target.delete(queues=[name])


def test_amqp_to_stomp_headers(pulse_target, queue):
    props = pika.BasicProperties(
        content_type="application/json", content_encoding="utf-8",
        headers={"s": "v:1\nx", "i": 7, "big": 2 ** 40, "flag": True, "t": {"n": "x"}},
        delivery_mode=2, priority=5, correlation_id="c1", reply_to="replies",
        expiration="60000", message_id="m1", timestamp=1700000000, type="t",
        user_id=pulse_target.user, app_id="app")
    with pulse_target.channel() as ch:
        ch.basic_publish("", queue, b"{\"a\":1}\0tail", properties=props)
    r = raw_target(pulse_target)
    try:
        r.send(("SUBSCRIBE\ndestination:/amq/queue/%s\nid:s1\n\n\0" % queue).encode())
        cmd, headers, body = r.frame()
        assert cmd == "MESSAGE" and body == b"{\"a\":1}\0tail"
        names = [k for k, _ in headers]
        h = dict(headers)
        assert re.fullmatch(r"T_s1@@session-[A-Za-z0-9_-]+@@1", h["message-id"])
        assert names == ["subscription", "destination", "message-id", "redelivered", "s", "i",
                         "big", "app-id", "user-id", "type", "timestamp", "amqp-message-id",
                         "expiration", "reply-to", "correlation-id", "priority", "persistent",
                         "content-encoding", "content-type", "content-length"]
        del h["message-id"]
        assert h == {
            "subscription": "s1", "destination": "/queue/" + queue, "redelivered": "false",
            "s": "v\\c1\\nx", "i": "7", "big": str(2 ** 40), "app-id": "app",
            "user-id": pulse_target.user, "type": "t", "timestamp": "1700000000",
            "amqp-message-id": "m1", "expiration": "60000", "reply-to": "/reply-queue/replies",
            "correlation-id": "c1", "priority": "5", "persistent": "true",
            "content-encoding": "utf-8", "content-type": "application/json",
            "content-length": "12"}
    finally:
        r.close()


def test_stomp_to_amqp_properties(pulse_target, queue):
    r = raw_target(pulse_target)
    try:
        r.send(("SEND\ndestination:/amq/queue/%s\ncontent-type:text/plain\nx-a:1\nx-b:two\n"
                "persistent:true\npriority:3\ncorrelation-id:c\nreply-to:/queue/r\n"
                "amqp-message-id:mid\ntimestamp:12\ntype:ty\napp-id:ap\nexpiration:90000\n"
                "content-encoding:gzip\nx-a:dup\nreceipt:rc\ncontent-length:5\n\nhe\0lo\0"
                % queue).encode())
        assert r.frame() == ("RECEIPT", [("receipt-id", "rc")], b"")
    finally:
        r.close()
    with pulse_target.channel() as ch:
        method, p, body = ch.basic_get(queue, auto_ack=True)
    assert body == b"he\0lo"
    assert method.exchange == "" and method.routing_key == queue
    assert (p.content_type, p.content_encoding, p.delivery_mode, p.priority) == (
        "text/plain", "gzip", 2, 3)
    assert (p.correlation_id, p.reply_to, p.message_id, p.timestamp, p.type, p.app_id,
            p.expiration) == ("c", "/queue/r", "mid", 12, "ty", "ap", "90000")
    assert p.user_id is None
    # RabbitMQ keeps a header's first occurrence and lists them last-first.
    assert list(p.headers.items()) == [("content-length", "5"), ("receipt", "rc"),
                                       ("x-b", "two"), ("x-a", "1")]


def test_plain_send_has_only_a_headers_table(pulse_target, queue):
    r = raw_target(pulse_target)
    try:
        r.send(("SEND\ndestination:/amq/queue/%s\nreceipt:r\n\nx\0" % queue).encode())
        assert r.frame()[0] == "RECEIPT"
    finally:
        r.close()
    with pulse_target.channel() as ch:
        method, p, body = ch.basic_get(queue, auto_ack=True)
    assert body == b"x"
    assert p.delivery_mode is None and p.content_type is None
    assert p.headers == {"receipt": "r"}
