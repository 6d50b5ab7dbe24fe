"""consumer_timeout (RabbitMQ's key, default 30 minutes): a channel whose oldest delivery waits
for its ack longer than that is closed with 406 and RabbitMQ's text, and its unacked messages
go back to the queue. Deliveries acked in time, and auto-ack consumers, are never affected."""
import time

import pytest

from harness.util import unique, wait_for

TIMEOUT_MS = 1000
TEXT = ("PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out. Timeout value "
        "used: 1000 ms. This timeout value can be configured, see consumers doc guide to learn "
        "more")


@pytest.fixture(scope="module")
def tbroker(broker_with):
    return broker_with({"consumer_timeout": TIMEOUT_MS})


def closed_with(ch):
    """Pumps the connection until the channel is closed by the broker; (code, text)."""
    conn = ch.connection
    deadline = time.time() + 10
    while ch.is_open and time.time() < deadline:
        conn.process_data_events(0.05)
    assert ch.is_closed, "the channel is still open after 10 s"
    return ch._closing_reason.reply_code, ch._closing_reason.reply_text


def publish(broker, q, bodies):
    c = broker.connect()
    ch = c.channel()
    ch.queue_declare(q, auto_delete=False)
    for b in bodies:
        ch.basic_publish("", q, b)
    c.close()


def drain(broker, q):
    c = broker.connect()
    ch = c.channel()
    out = []
    while True:
        m, _p, body = ch.basic_get(q, auto_ack=True)
        if m is None:
            break
        out.append((body, m.redelivered))
    ch.queue_delete(q)
    c.close()
    return out


def test_an_unacked_delivery_closes_the_channel_and_is_requeued(tbroker):
    q = unique("ct-consume")
    publish(tbroker, q, [b"a", b"b"])
    c = tbroker.connect()
    ch = c.channel()
    got = []
    ch.basic_consume(q, lambda _c, m, _p, b: got.append(b))
    start = time.time()
    try:
        assert closed_with(ch) == (406, TEXT)
        assert time.time() - start >= TIMEOUT_MS / 1000.0 * 0.9
        assert got == [b"a", b"b"]
        assert c.is_open, "only the channel closes"
    finally:
        c.close()
    assert drain(tbroker, q) == [(b"a", True), (b"b", True)]


def test_basic_get_without_ack_times_out_too(tbroker):
    q = unique("ct-get")
    publish(tbroker, q, [b"g"])
    c = tbroker.connect()
    ch = c.channel()
    m, _p, body = ch.basic_get(q, auto_ack=False)
    assert body == b"g"
    try:
        start = time.time()
        code, text = closed_with(ch)
        assert (code, text) == (406, TEXT)
        assert time.time() - start >= TIMEOUT_MS / 1000.0 * 0.5
    finally:
        c.close()
    assert drain(tbroker, q) == [(b"g", True)]


def test_acks_in_time_and_auto_ack_keep_the_channel_open(tbroker):
    """A consumer that takes 0.3 s per message for 3 s outlives the timeout many times over;
    so does an auto-ack consumer that never acks anything."""
    q, qa = unique("ct-slow"), unique("ct-auto")
    publish(tbroker, q, [b"%d" % i for i in range(10)])
    publish(tbroker, qa, [b"x"])
    c = tbroker.connect()
    ch = c.channel()
    ch.basic_qos(prefetch_count=1)
    acked = []

    def slow(chan, m, _p, b):
        time.sleep(0.3)
        chan.basic_ack(m.delivery_tag)
        acked.append(b)

    ch.basic_consume(q, slow)
    ach = c.channel()
    ach.basic_consume(qa, lambda *_a: None, auto_ack=True)
    try:
        wait_for(lambda: c.process_data_events(0.05) or len(acked) == 10, timeout=20,
                 msg="all ten acked")
        end = time.time() + 1.5
        while time.time() < end:
            c.process_data_events(0.05)
        assert ch.is_open and ach.is_open
    finally:
        c.close()
    drain(tbroker, q)
    drain(tbroker, qa)


def test_other_channels_of_the_connection_go_on(tbroker):
    q, q2 = unique("ct-late"), unique("ct-fine")
    publish(tbroker, q, [b"late"])
    c = tbroker.connect()
    late = c.channel()
    late.basic_consume(q, lambda *_a: None)
    fine = c.channel()
    try:
        code, _text = closed_with(late)
        assert code == 406
        fine.queue_declare(q2)
        fine.basic_publish("", q2, b"after")
        m, _p, body = fine.basic_get(q2, auto_ack=True)
        assert body == b"after"
    finally:
        c.close()
    drain(tbroker, q)
    drain(tbroker, q2)
