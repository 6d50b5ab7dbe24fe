"""Fixtures and helpers of the test_hostile_* files (raw sockets, a bystander connection that
must keep working, expected closes).

For every case: what the misbehaving client receives (connection.close with
which code/text, channel.close, or just a closed socket), and that a bystander
connection opened beforehand, and a fresh connection, keep working.

The exact RabbitMQ 3.10 behaviours are recorded in RABBITMQ_NOTES_HOSTILE.md.
"""
import socket
import threading
import time

import pytest

from rawamqp import Close, RawAMQP, check_broker_healthy, long_, shortstr

# Same dict as test_connection.py so that both files share one extra broker
# (brokers are cached per distinct config).
LIMITS = {"heartbeat": 1, "frame_max": 8192, "channel_max": 16,
          "max_message_size": 65536, "handshake_timeout": 2000}


@pytest.fixture(scope="module")
def limited(broker_with):
    return broker_with(LIMITS)


class Bystander:
    """A well-behaved connection opened before the hostile one."""

    def __init__(self, b):
        self.b = b
        self.c = RawAMQP(b.host, b.port).handshake()
        self.c.open_channel(1)
        self.q = "hostile.bystander.%d" % time.monotonic_ns()
        self.c.queue_declare(1, self.q, exclusive=True)
        self.n = 0

    def check(self):
        self.n += 1
        body = b"still-alive-%d" % self.n
        self.c.publish(1, "", self.q, body)
        assert self.c.basic_get(1, self.q) == body, "bystander connection broken"
        check_broker_healthy(self.b.host, self.b.port, "fresh")

    def close(self):
        self.c.close()


@pytest.fixture
def bystander(broker):
    b = Bystander(broker)
    yield b
    b.close()


@pytest.fixture
def limited_bystander(limited):
    b = Bystander(limited)
    yield b
    b.close()


def opened(b, channel=1, **kw):
    c = RawAMQP(b.host, b.port).handshake(**kw)
    if channel:
        c.open_channel(channel)
    return c


def expect_connection_close(c, code, text=None, startswith=None, contains=(), class_method=None,
                            socket_closes=True):
    ev = c.read_until_close(timeout=5)
    assert isinstance(ev, Close), "expected connection.close %d, got %r" % (code, ev)
    assert ev.level == "connection", ev
    assert ev.channel == 0, ev
    assert ev.code == code, ev
    if text is not None:
        assert ev.text == text, ev
    if startswith is not None:
        assert ev.text.startswith(startswith), ev
    for part in contains:
        assert part in ev.text, ev
    if class_method is not None:
        assert (ev.class_id, ev.method_id) == class_method, ev
    if socket_closes:
        # close-ok was sent by read_until_close: the broker must now close the socket.
        assert c.socket_closes_within(5), "socket still open after connection.close/close-ok"
    c.abort()
    return ev


def expect_silent_close(c, timeout=6.0):
    """The broker closes the socket without sending anything (not even connection.close)."""
    t0 = time.monotonic()
    try:
        data = c.read_all_until_eof(timeout)
    except socket.timeout:
        pytest.fail("socket still open after %.1fs" % timeout)
    c.abort()
    assert data == b"", "expected a silent close, got %r" % data[:200]
    return time.monotonic() - t0


def run_concurrently(cases):
    """Run slow cases (each waits for a broker-side delay) in parallel threads.
    cases: {name: fn}; returns {name: result or exception}."""
    results = {}

    def run(name, fn):
        try:
            results[name] = fn()
        except BaseException as e:  # noqa
            results[name] = e

    threads = [threading.Thread(target=run, args=(n, f)) for n, f in cases.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def assert_all_ok(results):
    bad = {k: v for k, v in results.items() if isinstance(v, BaseException)}
    assert not bad, "\n".join("%s: %r" % kv for kv in bad.items())


def nested_table(depth):
    t = long_(0)
    for _ in range(depth):
        inner = shortstr("k") + b"F" + t
        t = long_(len(inner)) + inner
    return t
