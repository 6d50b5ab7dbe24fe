"""basic.qos, basic.consume and basic.cancel."""
import re

import pytest
from pika import spec

from harness.amqp_assert import channel_closed, connection_closed
from harness.basic_ops import fill, pump, q_excl
from harness.raw_amqp import RawConnection

CTAG = re.compile(r"^amq\.ctag-[A-Za-z0-9_\-]{22}$")


# ----------------------------------------------------------------- qos --

def test_qos_prefetch_count_per_consumer(conn):
    ch = conn.channel()
    q = q_excl(ch)
    fill(ch, q, 10)
    ch.basic_qos(prefetch_count=3)
    got = []
    ch.basic_consume(q, lambda c, m, p, b: got.append(m.delivery_tag))
    conn.process_data_events(0.3)
    assert len(got) == 3
    ch.basic_ack(got[-1], multiple=True)
    conn.process_data_events(0.3)
    assert len(got) == 6


def two_filled_queues(ch, n=5):
    q1, q2 = q_excl(ch), q_excl(ch)
    fill(ch, q1, n)
    fill(ch, q2, n)
    return q1, q2


def test_qos_non_global_applies_to_each_consumer(conn):
    ch = conn.channel()
    q1, q2 = two_filled_queues(ch)
    ch.basic_qos(prefetch_count=2, global_qos=False)
    got = {q1: 0, q2: 0}
    for q in (q1, q2):
        ch.basic_consume(q, lambda c, m, p, b, q=q: got.__setitem__(q, got[q] + 1))
    conn.process_data_events(0.3)
    assert got == {q1: 2, q2: 2}


def test_qos_global_shared_by_channel(conn):
    ch = conn.channel()
    q1, q2 = two_filled_queues(ch)
    ch.basic_qos(prefetch_count=3, global_qos=True)
    got = []
    for q in (q1, q2):
        ch.basic_consume(q, lambda c, m, p, b: got.append(m.delivery_tag))
    conn.process_data_events(0.3)
    assert len(got) == 3


def test_qos_global_and_per_consumer_combined(conn):
    ch = conn.channel()
    q1, q2 = two_filled_queues(ch)
    ch.basic_qos(prefetch_count=3, global_qos=True)
    ch.basic_qos(prefetch_count=1, global_qos=False)
    got = []
    for q in (q1, q2):
        ch.basic_consume(q, lambda c, m, p, b: got.append(m.delivery_tag))
    conn.process_data_events(0.3)
    assert len(got) == 2  # each consumer limited to 1, channel limit 3 not reached


def test_qos_applies_only_to_later_consumers(conn):
    ch = conn.channel()
    q = q_excl(ch)
    fill(ch, q, 6)
    ch.basic_qos(prefetch_count=2)
    got = []
    ch.basic_consume(q, lambda c, m, p, b: got.append(m.delivery_tag))
    ch.basic_qos(prefetch_count=5)  # the existing consumer keeps 2
    conn.process_data_events(0.3)
    assert len(got) == 2


def test_qos_prefetch_size_not_implemented(conn):
    ch = conn.channel()
    with connection_closed(540, "NOT_IMPLEMENTED - prefetch_size!=0 (1000)"):
        ch.basic_qos(prefetch_size=1000)


def test_qos_get_ignores_prefetch(ch):
    q = q_excl(ch)
    fill(ch, q, 3)
    ch.basic_qos(prefetch_count=1)
    tags = [ch.basic_get(q)[0].delivery_tag for _ in range(3)]
    assert tags == [1, 2, 3]


# ------------------------------------------------------------- consume --

@pytest.fixture
def rawch(broker):
    raw = RawConnection(broker.host, broker.port)
    raw.handshake()
    raw.send_method(1, spec.Channel.Open())
    raw.recv_method()
    yield raw
    raw.close()


def test_consume_generated_tag_and_cancel(rawch):
    raw = rawch
    raw.send_method(1, spec.Queue.Declare(queue="", exclusive=True))
    q = raw.recv_method().method.queue
    raw.send_method(1, spec.Basic.Consume(queue=q, consumer_tag=""))
    ok = raw.recv_method().method
    assert isinstance(ok, spec.Basic.ConsumeOk)
    assert CTAG.match(ok.consumer_tag), ok.consumer_tag
    raw.send_method(1, spec.Queue.Declare(queue=q, passive=True))
    assert raw.recv_method().method.consumer_count == 1
    raw.send_method(1, spec.Basic.Cancel(consumer_tag=ok.consumer_tag))
    c = raw.recv_method().method
    assert isinstance(c, spec.Basic.CancelOk) and c.consumer_tag == ok.consumer_tag
    raw.send_method(1, spec.Queue.Declare(queue=q, passive=True))
    assert raw.recv_method().method.consumer_count == 0


def test_consume_tag_reuse(rawch):
    raw = rawch
    raw.send_method(1, spec.Queue.Declare(queue="", exclusive=True))
    q = raw.recv_method().method.queue
    raw.send_method(1, spec.Basic.Consume(queue=q, consumer_tag="mytag"))
    assert raw.recv_method().method.consumer_tag == "mytag"
    raw.send_method(1, spec.Basic.Consume(queue=q, consumer_tag="mytag"))
    fr = raw.recv_method()
    # a CONNECTION error in RabbitMQ
    assert fr.channel_number == 0 and isinstance(fr.method, spec.Connection.Close)
    assert fr.method.reply_code == 530
    assert fr.method.reply_text == "NOT_ALLOWED - attempt to reuse consumer tag 'mytag'"
    assert (fr.method.class_id, fr.method.method_id) == (60, 20)


def test_consume_missing_queue(conn, uname):
    q = uname("noq")
    with channel_closed(404, "NOT_FOUND - no queue '%s' in vhost '/'" % q):
        conn.channel().basic_consume(q, lambda *a: None)


def test_cancel_unknown_tag_is_ok(broker):
    # On the wire: pika's basic_cancel returns without sending for a tag it does not know.
    raw = RawConnection(broker.host, broker.port)
    try:
        raw.handshake()
        raw.send_method(1, spec.Channel.Open())
        raw.recv_method()
        raw.send_method(1, spec.Basic.Cancel(consumer_tag="no-such-tag"))
        fr = raw.recv_method()
        assert fr.channel_number == 1 and isinstance(fr.method, spec.Basic.CancelOk), fr
        assert fr.method.consumer_tag == "no-such-tag"
        # The channel stays open: a further method on it is answered.
        raw.send_method(1, spec.Basic.Qos(prefetch_count=1))
        assert isinstance(raw.recv_method().method, spec.Basic.QosOk)
    finally:
        raw.close()


def test_no_ack_consume_delivers_and_removes(conn):
    ch = conn.channel()
    q = q_excl(ch)
    fill(ch, q, 3)
    got = []
    ch.basic_consume(q, lambda c, m, p, b: got.append((m.delivery_tag, m.redelivered, b)), auto_ack=True)
    pump(conn, lambda: len(got) == 3)
    assert got == [(1, False, b"0"), (2, False, b"1"), (3, False, b"2")]
    assert ch.queue_declare(q, passive=True).method.message_count == 0


def test_exclusive_consumer_blocks_others(conn):
    ch = conn.channel()
    q = q_excl(ch)
    ch.basic_consume(q, lambda *a: None, exclusive=True)
    with channel_closed(403, "ACCESS_REFUSED - queue '%s' in vhost '/' in exclusive use" % q):
        conn.channel().basic_consume(q, lambda *a: None)


def test_exclusive_consume_when_others_exist(conn):
    ch = conn.channel()
    q = q_excl(ch)
    ch.basic_consume(q, lambda *a: None)
    with channel_closed(403, "ACCESS_REFUSED - queue '%s' in vhost '/' in exclusive use" % q):
        conn.channel().basic_consume(q, lambda *a: None, exclusive=True)


def test_server_cancel_on_queue_delete(conn, uname):
    ch = conn.channel()
    q = uname("cq")
    ch.queue_declare(q)
    cancelled = []
    ch.add_on_cancel_callback(lambda m: cancelled.append(m.method.consumer_tag))
    tag = ch.basic_consume(q, lambda *a: None)
    conn.channel().queue_delete(q)
    pump(conn, lambda: cancelled)
    assert cancelled == [tag]
    assert ch.is_open


def test_consumer_priority(conn):
    ch = conn.channel()
    q = q_excl(ch)
    ch.basic_qos(prefetch_count=2)
    low, high = [], []
    ch.basic_consume(q, lambda c, m, p, b: low.append(b), arguments={"x-priority": 1})
    ch.basic_consume(q, lambda c, m, p, b: high.append(b), arguments={"x-priority": 10})
    fill(ch, q, 5)
    conn.process_data_events(0.3)
    assert (len(high), len(low)) == (2, 2)  # high fills first, then low gets the rest
    assert high == [b"0", b"1"]


def test_consumer_priority_invalid_type(conn):
    ch = conn.channel()
    q = q_excl(ch)
    with channel_closed(406, startswith="PRECONDITION_FAILED - invalid arg 'x-priority'"):
        ch.basic_consume(q, lambda *a: None, arguments={"x-priority": "high"})
