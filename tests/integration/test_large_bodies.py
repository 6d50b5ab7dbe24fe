"""Large message bodies: the broker sends bodies of 8 KiB and more straight from the stored
message (gathered writes) instead of copying them into each connection's output. What clients
see must not change: every consumer, on its own connection, gets every byte, split into frames
of the size it negotiated, with basic.get and basic.consume alike, while other deliveries and
replies interleave on the same connections."""
import hashlib

import pika

from harness.basic_ops import pump

# Around the sharing threshold, around frame boundaries (frame_max 4096 and 131072), and big.
SIZES = [8191, 8192, 8193, 4088 * 3, 4088 * 3 + 1, 131064, 131065, 131073, 1 << 20, 5 * (1 << 20) + 7]


def body(size, seed):
    block = hashlib.sha256(b"%d-%d" % (size, seed)).digest()
    return (block * (size // len(block) + 1))[:size]


def test_fan_out_to_consumers_on_separate_connections(broker, uname):
    ex = uname("large-fan")
    pub = broker.connect()
    pch = pub.channel()
    pch.exchange_declare(ex, "fanout", auto_delete=True)
    consumers = []
    for i, frame_max in enumerate([4096, 131072, 4096, 131072]):
        c = broker.connect(frame_max=frame_max)
        ch = c.channel()
        q = ch.queue_declare("", exclusive=True).method.queue
        ch.queue_bind(q, ex)
        got = []
        ch.basic_consume(q, lambda _c, m, p, b, got=got: got.append((p.message_id, b)),
                         auto_ack=(i % 2 == 0))
        consumers.append((c, ch, got, i % 2 == 1))
    sent = []
    for n, size in enumerate(SIZES):
        b = body(size, n)
        # A small message between large ones: frames of both must stay in order.
        pch.basic_publish(ex, "", b, pika.BasicProperties(message_id="big-%d" % n))
        pch.basic_publish(ex, "", b"small", pika.BasicProperties(message_id="small-%d" % n))
        sent += [("big-%d" % n, b), ("small-%d" % n, b"small")]
    for c, ch, got, manual in consumers:
        pump(c, lambda got=got: len(got) >= len(sent), timeout=60)
        assert [m for m, _ in got] == [m for m, _ in sent]
        for (mid, b), (_, expected) in zip(got, sent):
            assert b == expected, "%s: %d bytes, expected %d" % (mid, len(b), len(expected))
        if manual:
            ch.basic_ack(0, multiple=True)
        c.close()
    pub.close()


def test_basic_get_of_large_bodies(broker, uname):
    c = broker.connect(frame_max=4096)
    ch = c.channel()
    q = uname("large-get")
    ch.queue_declare(q, auto_delete=False)
    try:
        for n, size in enumerate(SIZES):
            ch.basic_publish("", q, body(size, n))
        for n, size in enumerate(SIZES):
            m, _p, b = ch.basic_get(q, auto_ack=True)
            assert m is not None and b == body(size, n), size
    finally:
        ch.queue_delete(q)
        c.close()


def test_requeued_large_body_is_redelivered_intact(broker, uname):
    c = broker.connect()
    ch = c.channel()
    q = uname("large-requeue")
    ch.queue_declare(q, auto_delete=False)
    b = body(3 * (1 << 20), 42)
    try:
        ch.basic_publish("", q, b)
        m, _p, first = ch.basic_get(q)
        assert first == b
        ch.basic_nack(m.delivery_tag, requeue=True)
        m, _p, again = ch.basic_get(q, auto_ack=True)
        assert m.redelivered and again == b
    finally:
        ch.queue_delete(q)
        c.close()


def test_frames_split_at_every_kind_of_boundary(broker, uname):
    """A publisher's byte stream arrives in pieces of every size (inside a frame header, inside
    a body, exactly at frame ends, several frames at once): every message still arrives whole
    and in order."""
    import random
    import time

    from pika import frame, spec

    from harness.raw_amqp import RawConnection

    q = uname("dribble")
    c = broker.connect()
    ch = c.channel()
    ch.queue_declare(q, auto_delete=False)
    raw = RawConnection("127.0.0.1", broker.port)
    try:
        raw.handshake(frame_max=4096)
        raw.send_method(1, spec.Channel.Open())
        assert isinstance(raw.recv_method().method, spec.Channel.OpenOk)
        rng = random.Random(7)
        sizes = [0, 1, 7, 4088, 4089, 9000, 20000, 3, 70000]
        stream = b""
        for n, size in enumerate(sizes):
            b = body(size, n)
            stream += frame.Method(1, spec.Basic.Publish(routing_key=q)).marshal()
            stream += frame.Header(1, size, spec.BasicProperties(message_id=str(n))).marshal()
            for off in range(0, size, 4088):
                stream += frame.Body(1, b[off:off + 4088]).marshal()
        pos = 0
        while pos < len(stream):
            step = rng.choice([1, 2, 5, 7, 8, 100, 4096, 4097, 10000, 30000])
            raw.send_raw(stream[pos:pos + step])
            pos += step
            time.sleep(0.0005)  # separate reads on the broker's side
        for n, size in enumerate(sizes):
            for _ in range(200):
                m, p, got = ch.basic_get(q, auto_ack=True)
                if m is not None:
                    break
                time.sleep(0.02)
            assert m is not None, "message %d never arrived" % n
            assert p.message_id == str(n) and got == body(size, n), (n, len(got), size)
    finally:
        raw.close()
        ch.queue_delete(q)
        c.close()
