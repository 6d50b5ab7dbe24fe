"""Direct reply-to (amq.rabbitmq.reply-to)."""
import re

import pika

from harness.amqp_assert import channel_closed, sync
from harness.util import wait_for

RT = "amq.rabbitmq.reply-to"


def test_direct_reply_to_roundtrip(broker, conn, uname):
    server_conn = broker.connect()
    try:
        sch = server_conn.channel()
        rpc_q = sch.queue_declare("", exclusive=True).method.queue
        cch = conn.channel()
        replies = []
        cch.basic_consume(RT, lambda c, m, p, b: replies.append((m, p, b)), auto_ack=True)
        cch.basic_publish("", rpc_q, b"req", pika.BasicProperties(reply_to=RT, correlation_id="c1"))
        m, p, b = wait_for(lambda: (lambda r: r if r[0] else None)(sch.basic_get(rpc_q, auto_ack=True)))
        assert b == b"req"
        assert re.match(r"^amq\.rabbitmq\.reply-to\.[A-Za-z0-9+/=._-]+$", p.reply_to), p.reply_to
        sch.basic_publish("", p.reply_to, b"resp", pika.BasicProperties(correlation_id=p.correlation_id))
        wait_for(lambda: conn.process_data_events(0.02) or replies)
        rm, rp, rb = replies[0]
        assert rb == b"resp" and rp.correlation_id == "c1"
        assert rm.routing_key == p.reply_to and rm.exchange == ""
    finally:
        server_conn.close()


def test_reply_to_requires_consumer(conn):
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    with channel_closed(406, "PRECONDITION_FAILED - fast reply consumer does not exist"):
        ch.basic_publish("", q, b"x", pika.BasicProperties(reply_to=RT))
        sync(ch)


def test_reply_consumer_must_be_no_ack(conn):
    ch = conn.channel()
    with channel_closed(406, "PRECONDITION_FAILED - reply consumer cannot acknowledge"):
        ch.basic_consume(RT, lambda *a: None, auto_ack=False)


def test_reply_to_pseudo_queue_declare_passive(ch):
    ok = ch.queue_declare(RT, passive=True).method
    # RabbitMQ 3.10 answers (queue, 0 messages, 1 consumer) even with no reply consumer
    assert (ok.queue, ok.message_count, ok.consumer_count) == (RT, 0, 1)


def test_reply_to_unknown_target_dropped(ch):
    ch.confirm_delivery()
    ch.basic_publish("", RT + ".g2dkAAAAAAAAAA", b"x")  # acked, silently dropped
    sync(ch)
