"""Priority queues and single-active-consumer."""
import pika

from harness.basic_ops import get_all
from harness.util import wait_for


def test_priority_ordering(ch, uname):
    q = uname("pri")
    ch.queue_declare(q, exclusive=True, arguments={"x-max-priority": 10})
    ch.confirm_delivery()
    for pr, body in [(1, b"p1a"), (5, b"p5a"), (None, b"pN"), (9, b"p9"), (5, b"p5b"), (1, b"p1b"), (20, b"p20")]:
        ch.basic_publish("", q, body, pika.BasicProperties(priority=pr))
    out = get_all(ch, q)
    # priorities above max are treated as max; no priority = 0
    assert out == [b"p20", b"p9", b"p5a", b"p5b", b"p1a", b"p1b", b"pN"]


def test_priority_ignored_without_max_priority(ch):
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.confirm_delivery()
    for pr in (1, 9, 5):
        ch.basic_publish("", q, b"%d" % pr, pika.BasicProperties(priority=pr))
    out = [ch.basic_get(q, auto_ack=True)[2] for _ in range(3)]
    assert out == [b"1", b"9", b"5"]


def test_priority_requeue_keeps_priority_order(ch, uname):
    q = uname("pri")
    ch.queue_declare(q, exclusive=True, arguments={"x-max-priority": 5})
    ch.confirm_delivery()
    ch.basic_publish("", q, b"low", pika.BasicProperties(priority=1))
    ch.basic_publish("", q, b"high", pika.BasicProperties(priority=5))
    m, p, b = ch.basic_get(q)
    assert b == b"high"
    ch.basic_nack(m.delivery_tag, requeue=True)
    assert ch.basic_get(q, auto_ack=True)[2] == b"high"


def test_single_active_consumer(broker, conn, uname):
    ch = conn.channel()
    q = uname("sac")
    ch.queue_declare(q, exclusive=False, auto_delete=True, arguments={"x-single-active-consumer": True})
    got1, got2 = [], []
    t1 = ch.basic_consume(q, lambda c, m, p, b: (got1.append(b), c.basic_ack(m.delivery_tag)))
    t2 = ch.basic_consume(q, lambda c, m, p, b: (got2.append(b), c.basic_ack(m.delivery_tag)))
    pub = conn.channel()
    pub.confirm_delivery()
    for i in range(4):
        pub.basic_publish("", q, b"%d" % i)
    wait_for(lambda: conn.process_data_events(0.02) or len(got1) == 4)
    assert got2 == []
    ch.basic_cancel(t1)
    for i in range(4, 6):
        pub.basic_publish("", q, b"%d" % i)
    wait_for(lambda: conn.process_data_events(0.02) or len(got2) == 2)
    assert got1 == [b"0", b"1", b"2", b"3"] and got2 == [b"4", b"5"]
    # both count as consumers
    ch.basic_cancel(t2)


def test_single_active_consumer_failover_on_connection_close(broker, conn, uname):
    ch = conn.channel()
    q = uname("sac")
    ch.queue_declare(q, arguments={"x-single-active-consumer": True})
    other = broker.connect()
    other.channel().basic_consume(q, lambda *a: None)
    other.process_data_events(0.1)
    got = []
    ch.basic_consume(q, lambda c, m, p, b: got.append(b), auto_ack=True)
    ch.confirm_delivery() if False else None
    pub = conn.channel()
    pub.confirm_delivery()
    pub.basic_publish("", q, b"to-first")
    conn.process_data_events(0.2)
    assert got == []
    other.close()  # first consumer's unacked message returns and goes to us
    wait_for(lambda: conn.process_data_events(0.02) or got == [b"to-first"])
    conn.channel().queue_delete(q)
