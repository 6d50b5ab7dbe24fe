"""kombu used the way Mozilla's Pulse client (mozillapulse) uses it.

Publishers: a durable topic exchange `exchange/<user>/<name>`, JSON bodies with
the Pulse envelope, content type application/json, persistent messages.
Consumers: exchanges declared passively, a queue `queue/<user>/<applabel>`
(durable, auto_delete=False) or `queue/<user>/<uuid>` (auto_delete=True)
bound to several (exchange, topic) pairs, drain_events with timeouts, acks,
and a rebuild-and-reconnect loop when the connection dies.

Runs as alice on vhost `pulse-test` (full permissions there), so the URL
carries a non-default vhost and real credentials.
"""
import datetime
import json
import socket
import uuid

import amqp
import kombu
import pytest
from kombu import Connection, Exchange, Queue, binding

USER, PASSWORD, VHOST = "alice", "alice-secret1", "pulse-test"


def rfc3339_now():
    # e.g. 2014-08-01T12:46:42+01:00 (numeric offset, no fractional seconds)
    return datetime.datetime.now(datetime.timezone.utc).astimezone().replace(microsecond=0).isoformat()


def envelope(exchange, routing_key, payload):
    return {"payload": payload,
            "_meta": {"exchange": exchange, "routing_key": routing_key,
                      "serializer": "json", "sent": rfc3339_now()}}


@pytest.fixture
def url(broker):
    return broker.url(USER, PASSWORD, VHOST)


@pytest.fixture
def names():
    tag = uuid.uuid4().hex[:10]
    return {
        "exchange": "exchange/%s/%s/test" % (USER, tag),
        "exchange2": "exchange/%s/%s/build" % (USER, tag),
        "queue": "queue/%s/app-%s" % (USER, tag),
    }


class Publisher:
    """mozillapulse.publishers.GenericPublisher, reduced."""

    def __init__(self, url, exchange):
        self.exchange = exchange
        self.connection = Connection(url)
        self.connection.connect()

    def publish(self, routing_key, payload):
        ex = Exchange(self.exchange, type="topic", durable=True)
        producer = self.connection.Producer(exchange=ex, serializer="json")
        producer.publish(envelope(self.exchange, routing_key, payload), routing_key=routing_key,
                         delivery_mode=2, declare=[ex])

    def close(self):
        self.connection.release()


class Consumer:
    """mozillapulse.consumers.GenericConsumer, reduced: passive exchanges, one
    queue bound to several (exchange, topic) pairs."""

    def __init__(self, url, queue_name, pairs, durable=True):
        self.url, self.queue_name, self.pairs, self.durable = url, queue_name, pairs, durable
        self.received = []
        self.connection = None
        self.consumer = None

    def build(self):
        self.connection = Connection(self.url)
        self.connection.connect()
        ch = self.connection.channel()
        bindings = [binding(Exchange(ex, type="topic", passive=True), routing_key=topic)
                    for ex, topic in self.pairs]
        for b in bindings:
            b.exchange.maybe_bind(ch).declare()  # passive declare: never creates
        self.queue = Queue(name=self.queue_name, bindings=bindings, durable=self.durable,
                           auto_delete=not self.durable, channel=ch)
        self.queue.declare()
        self.consumer = kombu.Consumer(ch, queues=[self.queue], callbacks=[self.on_message],
                                       auto_declare=False, accept=["json"])
        self.consumer.consume()
        return self

    def on_message(self, body, message):
        self.received.append((body, message))
        message.ack()

    def drain(self, n, timeout=3.0):
        """Drain until n messages arrived in total; socket.timeout if not."""
        while len(self.received) < n:
            self.connection.drain_events(timeout=timeout)
        return self.received

    def close(self):
        if self.connection is not None:
            try:
                self.connection.release()
            except Exception:
                pass


def queue_state(broker, name):
    """(message_count, consumer_count) via pika as guest, or None if missing."""
    import pika
    c = broker.connect(vhost=VHOST)
    try:
        try:
            ok = c.channel().queue_declare(name, passive=True)
        except pika.exceptions.ChannelClosedByBroker as e:
            assert e.reply_code == 404, e
            return None
        return ok.method.message_count, ok.method.consumer_count
    finally:
        c.close()


def delete_queue(broker, name):
    c = broker.connect(vhost=VHOST)
    try:
        c.channel().queue_delete(name)
    finally:
        c.close()


def delete_exchanges(broker, *names):
    c = broker.connect(vhost=VHOST)
    try:
        ch = c.channel()
        for n in names:
            ch.exchange_delete(n)
    finally:
        c.close()


@pytest.fixture
def cleanup(broker, names):
    yield
    delete_queue(broker, names["queue"])
    delete_exchanges(broker, names["exchange"], names["exchange2"])


def test_publish_and_consume_pulse_envelope(broker, url, names, cleanup):
    pub = Publisher(url, names["exchange"])
    pub.publish("heartbeat", {"warmup": True})  # declares the exchange; no queue yet: dropped
    cons = Consumer(url, names["queue"], [(names["exchange"], "heartbeat"),
                                          (names["exchange"], "build.#")]).build()
    try:
        payloads = [("heartbeat", {"n": 1}), ("build.linux64.finished", {"n": 2, "ü": "ünïcode"}),
                    ("unrelated.key", {"n": 3}), ("build", {"n": 4})]
        for rk, p in payloads:
            pub.publish(rk, p)
        got = cons.drain(3)
        bodies = [b for b, m in got]
        assert [b["payload"] for b in bodies] == [{"n": 1}, {"n": 2, "ü": "ünïcode"}, {"n": 4}]
        for (body, msg), rk in zip(got, ["heartbeat", "build.linux64.finished", "build"]):
            assert msg.content_type == "application/json"
            assert msg.delivery_info["routing_key"] == rk
            assert msg.delivery_info["exchange"] == names["exchange"]
            assert msg.properties.get("delivery_mode") == 2
            meta = body["_meta"]
            assert meta["exchange"] == names["exchange"] and meta["routing_key"] == rk
            assert meta["serializer"] == "json"
            datetime.datetime.fromisoformat(meta["sent"])
            assert json.loads(msg.body) == body
        # nothing else arrives: drain_events times out
        with pytest.raises(socket.timeout):
            cons.connection.drain_events(timeout=0.5)
        assert queue_state(broker, names["queue"]) == (0, 1)
    finally:
        cons.close()
        pub.close()
    # durable queue survives its consumer
    assert queue_state(broker, names["queue"]) == (0, 0)
    # the exchange and the queue really are durable: a non-durable redeclare is refused
    import pika
    c = broker.connect(vhost=VHOST)
    try:
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as ei:
            c.channel().exchange_declare(names["exchange"], "topic", durable=False)
        assert ei.value.reply_code == 406
        assert ei.value.reply_text == (
            "PRECONDITION_FAILED - inequivalent arg 'durable' for exchange '%s' in vhost '%s': "
            "received 'false' but current is 'true'" % (names["exchange"], VHOST))
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as ei:
            c.channel().queue_declare(names["queue"], durable=False)
        assert ei.value.reply_code == 406
        assert ei.value.reply_text == (
            "PRECONDITION_FAILED - inequivalent arg 'durable' for queue '%s' in vhost '%s': "
            "received 'false' but current is 'true'" % (names["queue"], VHOST))
    finally:
        c.close()


def test_one_queue_bound_to_several_exchanges(broker, url, names, cleanup):
    pub1 = Publisher(url, names["exchange"])
    pub2 = Publisher(url, names["exchange2"])
    pub1.publish("x", {})
    pub2.publish("x", {})
    cons = Consumer(url, names["queue"], [(names["exchange"], "heartbeat"),
                                          (names["exchange2"], "*.finished"),
                                          (names["exchange2"], "#.log_uploaded")]).build()
    try:
        pub1.publish("heartbeat", {"from": 1})
        pub2.publish("build.finished", {"from": 2})
        pub2.publish("build.a.b.log_uploaded", {"from": 3})
        pub2.publish("heartbeat", {"from": "not bound on exchange2"})
        pub1.publish("build.finished", {"from": "not bound on exchange1"})
        got = cons.drain(3)
        assert sorted(b["payload"]["from"] for b, m in got) == [1, 2, 3]
        with pytest.raises(socket.timeout):
            cons.connection.drain_events(timeout=0.5)
    finally:
        cons.close()
        pub1.close()
        pub2.close()


def test_passive_declare_of_missing_exchange(url, names, cleanup):
    cons = Consumer(url, names["queue"], [(names["exchange"] + "/missing", "#")])
    with pytest.raises(amqp.exceptions.NotFound) as ei:
        cons.build()
    assert ei.value.reply_code == 404
    assert ei.value.reply_text == "NOT_FOUND - no exchange '%s/missing' in vhost '%s'" % (
        names["exchange"], VHOST)
    cons.close()


def test_passive_declare_does_not_create(broker, url, names, cleanup):
    c = Connection(url)
    try:
        ex = Exchange(names["exchange"], type="topic", passive=True)
        with pytest.raises(amqp.exceptions.NotFound):
            ex.maybe_bind(c.channel()).declare()
    finally:
        c.release()
    # still missing for everybody else
    c = Connection(url)
    try:
        with pytest.raises(amqp.exceptions.NotFound):
            Exchange(names["exchange"], type="topic", passive=True).maybe_bind(c.channel()).declare()
    finally:
        c.release()


def test_non_durable_auto_delete_queue_goes_away(broker, url, names, cleanup):
    qname = "queue/%s/%s" % (USER, uuid.uuid4())
    pub = Publisher(url, names["exchange"])
    pub.publish("x", {})
    cons = Consumer(url, qname, [(names["exchange"], "#")], durable=False).build()
    try:
        pub.publish("any.thing", {"v": 1})
        (body, msg), = cons.drain(1)
        assert body["payload"] == {"v": 1}
        assert queue_state(broker, qname) == (0, 1)
    finally:
        cons.close()
        pub.close()
    # last consumer gone: auto-delete queue deleted
    from harness.util import wait_for
    wait_for(lambda: queue_state(broker, qname) is None, timeout=5, msg="auto-delete queue removal")


def test_unacked_messages_are_redelivered_to_next_consumer(broker, url, names, cleanup):
    pub = Publisher(url, names["exchange"])
    pub.publish("x", {})
    cons = Consumer(url, names["queue"], [(names["exchange"], "#")])
    cons.on_message = lambda body, message: cons.received.append((body, message))  # no ack
    cons.build()
    try:
        pub.publish("a", {"v": "first"})
        (body, msg), = cons.drain(1)
        assert msg.delivery_info["redelivered"] is False
    finally:
        cons.close()
    cons2 = Consumer(url, names["queue"], [(names["exchange"], "#")]).build()
    try:
        (body, msg), = cons2.drain(1)
        assert body["payload"] == {"v": "first"}
        assert msg.delivery_info["redelivered"] is True
    finally:
        cons2.close()
        pub.close()
    assert queue_state(broker, names["queue"]) == (0, 0)


def _kill_from_client(conn):
    conn.connection.transport.sock.shutdown(socket.SHUT_RDWR)


def _kill_by_broker(conn):
    # a heartbeat frame on channel 1 is a connection error: the broker sends
    # connection.close (505) and drops the connection
    conn.connection.transport.sock.sendall(b"\x08\x00\x01\x00\x00\x00\x00\xce")


@pytest.mark.parametrize("kill", [_kill_from_client, _kill_by_broker], ids=["client-side", "broker-side"])
def test_reconnect_after_connection_dropped(broker, url, names, cleanup, kill):
    """mozillapulse's listen loop: on a connection error rebuild the consumer
    and carry on; the durable queue kept what was published meanwhile."""
    pub = Publisher(url, names["exchange"])
    pub.publish("x", {})
    cons = Consumer(url, names["queue"], [(names["exchange"], "#")]).build()
    try:
        pub.publish("k", {"v": 1})
        cons.drain(1)
        kill(cons.connection)
        with pytest.raises(tuple(cons.connection.connection_errors) + (OSError,)):
            for _ in range(20):
                cons.connection.drain_events(timeout=0.5)
        cons.close()
        from harness.util import wait_for
        wait_for(lambda: queue_state(broker, names["queue"]) == (0, 0), timeout=5,
                 msg="broker notices the dead consumer")
        pub.publish("k", {"v": 2})  # while nobody listens
        cons.build()  # reconnect: new connection, passive declares, same queue
        pub.publish("k", {"v": 3})
        got = cons.drain(3)
        assert [b["payload"]["v"] for b, m in got] == [1, 2, 3]
    finally:
        cons.close()
        pub.close()


def test_ensure_connection_and_publish_retry(url, names, cleanup):
    """Producer.publish(retry=True) on a connection whose socket died reconnects."""
    conn = Connection(url)
    conn.ensure_connection(max_retries=3)
    ex = Exchange(names["exchange"], type="topic", durable=True)
    q = Queue(names["queue"], exchange=ex, routing_key="#", durable=True)
    with conn.Producer(serializer="json") as producer:
        producer.publish(envelope(names["exchange"], "a", {"v": 1}), exchange=ex, routing_key="a",
                         declare=[ex, q], retry=True)
        _kill_from_client(conn)
        producer.publish(envelope(names["exchange"], "b", {"v": 2}), exchange=ex, routing_key="b",
                         declare=[ex, q], retry=True, retry_policy={"max_retries": 3, "interval_start": 0})
    conn.release()
    with Connection(url) as c2:
        sq = c2.SimpleQueue(q)
        got = [sq.get(timeout=3) for _ in range(2)]
        for m in got:
            m.ack()
        assert [m.payload["payload"]["v"] for m in got] == [1, 2]
        sq.close()
