"""Huge numbers of channels, consumers and bindings on one connection, sent pipelined as a
misbehaving or very large client would: all are served, other clients are not held up while
the broker works through them, and closing the connection gives everything back."""
import time

import pika
from pika import frame, spec

from harness.http_api import HttpApi
from harness.raw_amqp import RawConnection
from harness.util import unique, wait_for


def pipelined(raw, frames):
    raw.send_raw(b"".join(f.marshal() for f in frames))


def get_latency(broker, q):
    """Seconds a second client waits for a publish and a basic.get while the flood runs."""
    c = broker.connect()
    try:
        ch = c.channel()
        t = time.time()
        ch.basic_publish("", q, b"probe")
        assert ch.basic_get(q, auto_ack=True)[2] == b"probe"
        return time.time() - t
    finally:
        c.close()


def bystander_queue(broker):
    q = unique("bystander")
    c = broker.connect()
    c.channel().queue_declare(q, auto_delete=False)
    c.close()
    return q


def test_every_channel_up_to_channel_max(broker):
    raw = RawConnection("127.0.0.1", broker.port, timeout=30)
    try:
        raw.handshake()
        n = raw.tune.channel_max
        assert n == 2047
        pipelined(raw, [frame.Method(i, spec.Channel.Open()) for i in range(1, n + 1)])
        opened = set()
        while len(opened) < n:
            fr = raw.recv_method()
            assert isinstance(fr.method, spec.Channel.OpenOk), fr
            opened.add(fr.channel_number)
        q = unique("last-channel")
        raw.send_method(n, spec.Queue.Declare(queue=q, exclusive=True))
        fr = raw.recv_method()
        assert fr.channel_number == n and isinstance(fr.method, spec.Queue.DeclareOk)
        api = HttpApi(broker)
        wait_for(lambda: any(c.get("channels") == n for c in api.get("/api/connections").json),
                 msg="the management API counts %d channels" % n)
    finally:
        raw.close()


def test_twenty_thousand_consumers_on_one_channel(broker):
    n = 20000
    q = unique("many-consumers")
    probe = bystander_queue(broker)
    raw = RawConnection("127.0.0.1", broker.port, timeout=60)
    try:
        raw.handshake()
        raw.send_method(1, spec.Channel.Open())
        raw.recv_method()
        raw.send_method(1, spec.Queue.Declare(queue=q))
        raw.recv_method()
        pipelined(raw, [frame.Method(1, spec.Basic.Consume(queue=q, consumer_tag="c%d" % i,
                                                           no_ack=True, nowait=True))
                        for i in range(n)])
        assert get_latency(broker, probe) < 2.0
        api = HttpApi(broker)
        wait_for(lambda: api.get("/api/queues/%2F/" + q).json.get("consumers") == n,
                 timeout=60, msg="%d consumers" % n)
        # Round robin: 200 messages go to 200 different consumers.
        c = broker.connect()
        ch = c.channel()
        for i in range(200):
            ch.basic_publish("", q, b"%d" % i)
        c.close()
        tags = set()
        while len(tags) < 200:
            fr = raw.recv_method()
            if isinstance(fr, frame.Method) and isinstance(fr.method, spec.Basic.Deliver):
                tags.add(fr.method.consumer_tag)
        assert len(tags) == 200
    finally:
        raw.close()
    wait_for(lambda: HttpApi(broker).get("/api/queues/%2F/" + q).json.get("consumers") == 0,
             timeout=30, msg="the consumers are gone with their connection")
    c = broker.connect()
    c.channel().queue_delete(q)
    c.channel().queue_delete(probe)
    c.close()


def test_fifty_thousand_bindings_of_one_queue(broker):
    n = 50000
    x, q = unique("many-bind-x"), unique("many-bind-q")
    probe = bystander_queue(broker)
    raw = RawConnection("127.0.0.1", broker.port, timeout=60)
    try:
        raw.handshake()
        raw.send_method(1, spec.Channel.Open())
        raw.recv_method()
        raw.send_method(1, spec.Exchange.Declare(exchange=x, type="direct"))
        raw.recv_method()
        raw.send_method(1, spec.Queue.Declare(queue=q))
        raw.recv_method()
        pipelined(raw, [frame.Method(1, spec.Queue.Bind(queue=q, exchange=x,
                                                        routing_key="k%d" % i, nowait=True))
                        for i in range(n)])
        assert get_latency(broker, probe) < 2.0
        # A synchronous method after them: its reply means every bind before it was handled.
        raw.send_method(1, spec.Basic.Qos(prefetch_count=1))
        fr = raw.recv_method(timeout=60)
        assert isinstance(fr.method, spec.Basic.QosOk), fr
    finally:
        raw.close()
    c = broker.connect()
    ch = c.channel()
    for key in ("k0", "k31337", "k%d" % (n - 1)):
        ch.basic_publish(x, key, key.encode())
    ch.basic_publish(x, "k%d" % n, b"unrouted")
    got = []
    while True:
        m, _p, body = ch.basic_get(q, auto_ack=True)
        if m is None:
            break
        got.append(body)
    assert got == [b"k0", b"k31337", b"k%d" % (n - 1)]
    bindings = HttpApi(broker).get("/api/exchanges/%2F/" + x + "/bindings/source").json
    assert len(bindings) == n
    ch.queue_delete(q)
    assert HttpApi(broker).get("/api/exchanges/%2F/" + x + "/bindings/source").json == []
    ch.exchange_delete(x)
    ch.queue_delete(probe)
    c.close()
