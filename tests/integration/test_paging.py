"""Paging: with small memory budgets (pulsed's `paging.queue_memory_limit` and
`paging.global_memory_limit`), a backlog far larger than the budget keeps the broker's resident
memory bounded, and every message still arrives once, in order, byte-exact.

Against RabbitMQ the message assertions run on the session node (RabbitMQ pages on its own
terms; the keys are pulsed's), the RSS assertions are pulsed only."""
import random

import pika
import pytest

from harness.async_clients import AsyncConsumer, AsyncPublisher
from harness.broker import PulsedBroker
from harness.procfs import MiB, RssSampler
from harness.util import unique, wait_for

PAGING = {"paging.queue_memory_limit": "4MB", "paging.global_memory_limit": "16MB"}
BODY = 3 * 1024
BACKLOG = 100_000  # 300 MiB of bodies, against a 16 MB global budget
RSS_LIMIT = 150 * MiB

_rnd = random.Random(5)
_BLOCKS = [_rnd.randbytes(BODY - 8) for _ in range(64)]


def body_of(n):
    return b"%08d" % n + _BLOCKS[n % 64]


def check(props, body):
    n = int(body[:8])
    return n, body == body_of(n)


@pytest.fixture
def paging_broker(broker):
    """pulsed: a fresh node with the small budgets (so its RSS is this test's alone);
    RabbitMQ: the session node."""
    if broker.target != "pulsed":
        yield broker
        return
    b = PulsedBroker(PAGING)
    b.start()
    yield b
    b.stop(check=False)


def declare(b, q, **kw):
    c = b.connect()
    try:
        c.channel().queue_declare(q, **kw)
    finally:
        c.close()


def delete(b, q):
    c = b.connect()
    try:
        c.channel().queue_delete(q)
    finally:
        c.close()


def message_count(b, q):
    c = b.connect()
    try:
        return c.channel().queue_declare(q, passive=True).method.message_count
    finally:
        c.close()


def publish(b, q, total, props_of, window=1000):
    pub = AsyncPublisher(b, lambda n: (body_of(n), props_of(n)), q, window=window, total=total)
    pub.start()
    pub.wait(300)
    assert len(pub.confirmed) == total and not pub.nacked, pub.errors
    return pub


def drain(b, q, expected, auto_ack=True):
    """Consumes (no-ack by default: the broker sends as fast as we read) until `expected`
    deliveries arrived and the queue is empty; returns the keys in delivery order after
    checking every body and that nothing was redelivered."""
    consumer = AsyncConsumer(b, q, check, prefetch=1000, auto_ack=auto_ack)
    consumer.start()
    try:
        wait_for(lambda: len(consumer.deliveries) >= expected or not consumer.is_alive(),
                 timeout=300, interval=0.2, msg="%d deliveries" % expected)
        wait_for(lambda: message_count(b, q) == 0, timeout=10, msg="queue empty")
    finally:
        consumer.stop()
        consumer.wait(30)
    assert len(consumer.deliveries) == expected, (len(consumer.deliveries), expected,
                                                  consumer.errors)
    bad = [n for (n, intact), *_ in consumer.deliveries if not intact]
    assert not bad, "%d corrupt bodies, e.g. %s" % (len(bad), bad[:10])
    assert not any(d[1] for d in consumer.deliveries), "redelivered flag on a first delivery"
    return [n for (n, _intact), *_ in consumer.deliveries]


def backlog_round_trip(b, q, persistent):
    props = pika.BasicProperties(delivery_mode=2 if persistent else 1)
    with RssSampler(b.pid) as rss:
        publish(b, q, BACKLOG, lambda n: props)
        assert message_count(b, q) == BACKLOG
        at_end = rss.sample()
    print("%s backlog of %d x %d B: broker RSS peak %.1f MiB, %.1f MiB at the end "
          "(%d samples)" % ("persistent" if persistent else "transient", BACKLOG, BODY,
                            rss.peak / MiB, at_end / MiB, rss.samples))
    got = drain(b, q, BACKLOG, auto_ack=not persistent)  # persistent ones: acked one by one
    assert got == list(range(BACKLOG)), "out of order or missing: first bad index %d" % next(
        i for i, (x, y) in enumerate(zip(got, range(BACKLOG))) if x != y)
    return rss.peak, at_end


def test_transient_backlog_pages_out(paging_broker):
    q = unique("page-t")
    declare(paging_broker, q, durable=False)
    try:
        peak, at_end = backlog_round_trip(paging_broker, q, persistent=False)
    finally:
        delete(paging_broker, q)
    if paging_broker.target == "pulsed":
        assert peak < RSS_LIMIT and at_end < RSS_LIMIT, (peak / MiB, at_end / MiB)


def test_persistent_backlog_pages_out(paging_broker):
    q = unique("page-p")
    declare(paging_broker, q, durable=True)
    try:
        peak, at_end = backlog_round_trip(paging_broker, q, persistent=True)
    finally:
        delete(paging_broker, q)
    if paging_broker.target == "pulsed":
        assert peak < RSS_LIMIT and at_end < RSS_LIMIT, (peak / MiB, at_end / MiB)


def test_priority_queue_across_paging(paging_broker):
    q = unique("page-prio")
    declare(paging_broker, q, durable=False, arguments={"x-max-priority": 5})
    total = 10_000  # 30 MiB in six priorities, far past the 4 MB queue budget
    try:
        publish(paging_broker, q, total, lambda n: pika.BasicProperties(priority=n % 6))
        got = drain(paging_broker, q, total)
    finally:
        delete(paging_broker, q)
    assert got == sorted(range(total), key=lambda n: (-(n % 6), n))


def test_max_length_across_paging(paging_broker):
    q = unique("page-max")
    keep = 3_000
    declare(paging_broker, q, durable=False, arguments={"x-max-length": keep})
    total = 10_000
    try:
        publish(paging_broker, q, total, lambda n: pika.BasicProperties(delivery_mode=1))
        assert message_count(paging_broker, q) == keep
        got = drain(paging_broker, q, keep)
    finally:
        delete(paging_broker, q)
    assert got == list(range(total - keep, total))  # drop-head keeps the newest
