"""pulsed's event loop gathers input that clients stream without waiting for us, and deliveries
to consumers that hold plenty (server/event_loop.h, AmqpConnection::gather_deliveries), so
a client writing one publish per call costs one read per window, not one per message. Seen
here the way an operator sees it: the connection's recv_cnt / send_cnt in the management API.
Nothing is lost or reordered on the way."""
import socket
import time

import pika
import pytest
from pika import frame, spec

from harness.http_api import HttpApi, q
from harness.raw_amqp import RawConnection

pytestmark = pytest.mark.pulsed_only

N = 3000


def _name(raw, broker):
    return "127.0.0.1:%d -> 127.0.0.1:%d" % (raw.sock.getsockname()[1], broker.port)


def _open(broker):
    raw = RawConnection("127.0.0.1", broker.port)
    # Each write its own segment, as rabbitmq-c and pika set it (else the kernel's Nagle
    # gathers the writes before pulsed sees them).
    raw.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    raw.handshake()
    raw.send_method(1, spec.Channel.Open())
    assert isinstance(raw.recv_method(timeout=10).method, spec.Channel.OpenOk)
    return raw


def _publish_frames(queue, seq):
    props = spec.BasicProperties()
    body = b"%08d" % seq
    return (frame.Method(1, spec.Basic.Publish(exchange="", routing_key=queue)).marshal()
            + frame.Header(1, len(body), props).marshal() + frame.Body(1, body).marshal())


def _connection(api, name, want):
    """The management API's view of a connection once `want(view)` holds (stats are live)."""
    deadline = time.time() + 10
    while True:
        view = api.get("/api/connections/" + q(name)).json
        if want(view) or time.time() > deadline:
            return view
        time.sleep(0.05)


def _fill(broker, queue, n):
    with pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", broker.port)) as c:
        ch = c.channel()
        ch.queue_declare(queue)
        ch.queue_purge(queue)
        for i in range(n):
            ch.basic_publish("", queue, b"%08d" % i)
    return queue


def test_a_publisher_writing_each_message_alone_is_read_in_batches(broker):
    queue = "gather.stream"
    with pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", broker.port)) as c:
        c.channel().queue_declare(queue)
        c.channel().queue_purge(queue)
    raw = _open(broker)
    try:
        frames = [_publish_frames(queue, i) for i in range(N)]
        due = time.perf_counter()
        for f in frames:  # one write per publish every 40 µs (25k msg/s), as rabbitmq-c does
            while time.perf_counter() < due:
                pass
            due += 40e-6
            raw.sock.send(f)
        api = HttpApi(broker)
        view = _connection(api, _name(raw, broker),
                           lambda v: v.get("recv_oct", 0) >= sum(map(len, frames)))
        # Without gathering pulsed reads nearly every publish on its own (~N reads); with it,
        # one read per 200 µs window holds about five.
        assert view["recv_cnt"] <= N / 3, view["recv_cnt"]
    finally:
        raw.sock.close()
    with pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", broker.port)) as c:
        ch = c.channel()
        got = []
        for _ in range(N):
            _m, _p, body = ch.basic_get(queue, auto_ack=True)
            got.append(int(body))
        assert got == list(range(N))
        ch.queue_delete(queue)


def test_a_consumer_holding_plenty_gets_refills_gathered(broker):
    queue = _fill(broker, "gather.drain", N)
    raw = _open(broker)
    try:
        raw.send_method(1, spec.Basic.Qos(prefetch_count=300))
        raw.recv_method(timeout=10)
        raw.send_method(1, spec.Basic.Consume(queue=queue, consumer_tag="c"))
        assert isinstance(raw.recv_method(timeout=10).method, spec.Basic.ConsumeOk)
        # Acks one by one every 50 µs, each in its own write, as py-amqp and pika do: the
        # consumer holds 300, far more than it works through in two windows.
        got, tag, due = [], None, time.perf_counter()
        while len(got) < N:
            fr = raw.recv_frame(timeout=10)
            assert fr is not None
            if isinstance(fr, frame.Method) and isinstance(fr.method, spec.Basic.Deliver):
                tag = fr.method.delivery_tag
            elif isinstance(fr, frame.Body):
                got.append(int(fr.fragment))
                while time.perf_counter() < due:
                    pass
                due = time.perf_counter() + 50e-6
                raw.sock.send(frame.Method(1, spec.Basic.Ack(delivery_tag=tag)).marshal())
        assert got == list(range(N))
        view = _connection(HttpApi(broker), _name(raw, broker), lambda v: True)
        # One write per ack without gathering (N - 300 refills); with it, one per window.
        assert view["send_cnt"] <= 0.6 * N, view["send_cnt"]
    finally:
        try:
            raw.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        raw.sock.close()
    with pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", broker.port)) as c:
        c.channel().queue_delete(queue)
