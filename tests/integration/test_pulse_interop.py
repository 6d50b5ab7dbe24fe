"""pulse-listen and pulse-publish speak Pulse's conventions as mozillapulse (kombu) does, on
pulsed and on a real RabbitMQ node (the `pulse_target` fixture gives both in one run).

kombu -> pulse-listen: messages a mozillapulse publisher sends (the envelope with extra `_meta`
fields, application/json, persistent, on a durable topic exchange) come out of pulse-listen as one
JSON object per line. pulse-publish -> kombu: what the tool sends is what a mozillapulse consumer
expects (payload and `_meta` with an RFC 3339 `sent`, persistent, application/json), with CC routes
for Taskcluster-style custom routes."""
import base64
import datetime
import json
import re
import socket
import uuid

import kombu
import pytest
from kombu import Connection, Exchange, Queue, binding

from harness.pulse_tools import Listener, Publisher, numbered, publish

RFC3339_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$")


@pytest.fixture
def names(pulse_target):
    tag = uuid.uuid4().hex[:10]
    n = {"exchange": "exchange/alice/%s/builds" % tag,
         "exchange2": "exchange/alice/%s/pushes" % tag,
         "queue": "queue/alice/interop-%s" % tag,
         "route_queue": "queue/alice/routes-%s" % tag}
    yield n
    pulse_target.delete(exchanges=(n["exchange"], n["exchange2"]),
                        queues=(n["queue"], n["route_queue"]))


def sent_now():
    return datetime.datetime.now(datetime.timezone.utc).astimezone().replace(
        microsecond=0).isoformat()


def mozillapulse_publish(url, exchange, messages):
    """mozillapulse's GenericPublisher: a durable topic exchange, the envelope with extra _meta
    fields (buildbot's master_name, ...), JSON, persistent."""
    with Connection(url) as conn:
        ex = Exchange(exchange, type="topic", durable=True)
        producer = conn.Producer(exchange=ex, serializer="json")
        for rk, payload in messages:
            body = {"payload": payload,
                    "_meta": {"exchange": exchange, "routing_key": rk, "serializer": "json",
                              "sent": sent_now(), "master_name": "buildbot-master69",
                              "master_incarnation": "pid-1234"}}
            producer.publish(body, routing_key=rk, delivery_mode=2, declare=[ex])


def test_kombu_envelope_to_pulse_listen(pulse_target, names):
    url = pulse_target.uri()
    ex, ex2 = names["exchange"], names["exchange2"]
    for e in (ex, ex2):
        pulse_target.declare_exchange(e)
    listener = Listener(url, ["--exchange", ex, "--topic", "build.#", "--topic", "heartbeat",
                              "--exchange", ex2, "--count", "4"])
    try:
        queue_line = listener.wait_listening()
        assert re.match(r"^pulse-listen: listening on queue/alice/[0-9a-f-]{36} "
                        r"\(127\.0\.0\.1:%d\)$" % pulse_target.port, queue_line), queue_line
        # first the ones no binding matches: were any delivered, --count 4 would stop early
        mozillapulse_publish(url, ex, [("unrelated.key", {"n": 0}), ("builds", {"n": 0})])
        mozillapulse_publish(url, ex, [("build.linux64.finished", {"n": 1, "ü": "ünïcode"}),
                                       ("heartbeat", {"n": 2})])
        mozillapulse_publish(url, ex2, [("hg.push.mozilla-central", {"n": 3}),
                                        ("anything", {"n": 4})])
        assert listener.wait_exit(60) == 0, listener.describe()
    finally:
        listener.kill()
    got = listener.messages
    assert [(m["exchange"], m["routing_key"]) for m in got] == [
        (ex, "build.linux64.finished"), (ex, "heartbeat"),
        (ex2, "hg.push.mozilla-central"), (ex2, "anything")]
    for m, n in zip(got, (1, 2, 3, 4)):
        assert m["redelivered"] is False
        assert m["properties"]["content_type"] == "application/json"
        assert m["properties"]["delivery_mode"] == 2
        body = m["body"]
        assert body["payload"]["n"] == n
        meta = body["_meta"]
        assert meta["exchange"] == m["exchange"] and meta["routing_key"] == m["routing_key"]
        assert meta["serializer"] == "json" and meta["master_name"] == "buildbot-master69"
        assert meta["master_incarnation"] == "pid-1234"
        assert RFC3339_OFFSET.match(meta["sent"])
    assert got[0]["body"]["payload"] == {"n": 1, "ü": "ünïcode"}


def test_pulse_listen_prints_non_json_bodies(pulse_target, names):
    ex = names["exchange"]
    pulse_target.declare_exchange(ex)
    listener = Listener(pulse_target.uri(), ["--exchange", ex, "--count", "3"])
    try:
        listener.wait_listening()
        with pulse_target.channel() as ch:
            ch.basic_publish(ex, "text", b"plain words")
            ch.basic_publish(ex, "binary", b"\xff\xfe\x00bytes")
            ch.basic_publish(ex, "json", b'[1, "two", {"three": 3}]')
        assert listener.wait_exit(60) == 0, listener.describe()
    finally:
        listener.kill()
    text, binary, js = listener.messages
    assert text["body"] == "plain words" and "body_encoding" not in text
    assert text["properties"] == {}
    assert binary["body_encoding"] == "base64"
    assert base64.b64decode(binary["body"]) == b"\xff\xfe\x00bytes"
    assert js["body"] == [1, "two", {"three": 3}]


class KombuConsumer:
    """mozillapulse's GenericConsumer: passive exchange, a queue bound to topics."""

    def __init__(self, url, queue, exchange, topics, durable=False):
        self.conn = Connection(url)
        self.conn.connect()
        ch = self.conn.channel()
        ex = Exchange(exchange, type="topic", passive=True)
        self.queue = Queue(name=queue, bindings=[binding(ex, routing_key=t) for t in topics],
                           durable=durable, auto_delete=not durable, channel=ch)
        self.queue.declare()
        self.received = []
        self.consumer = kombu.Consumer(ch, queues=[self.queue], callbacks=[self._on_message],
                                       auto_declare=False, accept=["json"])
        self.consumer.consume()

    def _on_message(self, body, message):
        self.received.append((body, message))
        message.ack()

    def drain(self, n, timeout=30):
        deadline = datetime.datetime.now() + datetime.timedelta(seconds=timeout)
        while len(self.received) < n:
            left = (deadline - datetime.datetime.now()).total_seconds()
            assert left > 0, "only %d of %d messages arrived" % (len(self.received), n)
            try:
                self.conn.drain_events(timeout=min(left, 2))
            except socket.timeout:
                pass
        return self.received

    def assert_nothing_more(self):
        with pytest.raises(socket.timeout):
            self.conn.drain_events(timeout=0.5)

    def close(self):
        self.conn.release()


@pytest.fixture
def kombu_consumer(pulse_target, names):
    made = []

    def make(queue, topics, exchange=None):
        c = KombuConsumer(pulse_target.uri(), queue, exchange or names["exchange"], topics)
        made.append(c)
        return c
    yield make
    for c in made:
        c.close()


def test_pulse_publish_envelope_to_kombu(pulse_target, names, kombu_consumer):
    ex = names["exchange"]
    pulse_target.declare_exchange(ex)  # a consumer binds before anything is published
    cons = kombu_consumer(names["queue"], ["build.#"])
    payloads = [{"n": 1}, {"n": 2, "nested": {"list": [1, 2, None], "ü": "ünïcode"}}, {"n": 3}]
    before = datetime.datetime.now(datetime.timezone.utc)
    lines = [json.dumps(p) for p in payloads[:2]] + ["", json.dumps(payloads[2])]
    rc, counts, proc = publish(pulse_target.uri(), ex, "build.linux64.finished", lines)
    assert (rc, counts) == (0, (3, 3, 0)), proc.describe()
    got = cons.drain(3)
    cons.assert_nothing_more()
    assert [b["payload"] for b, _ in got] == payloads
    for body, msg in got:
        assert msg.content_type == "application/json"
        assert msg.properties["delivery_mode"] == 2
        assert msg.delivery_info["exchange"] == ex
        assert msg.delivery_info["routing_key"] == "build.linux64.finished"
        meta = body["_meta"]
        assert meta["exchange"] == ex and meta["routing_key"] == "build.linux64.finished"
        assert RFC3339_OFFSET.match(meta["sent"]), meta["sent"]
        sent = datetime.datetime.fromisoformat(meta["sent"])
        assert before - datetime.timedelta(seconds=2) <= sent <= \
            datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=2)
        assert json.loads(msg.body) == body
    # the exchange pulse-publish declares is a durable topic exchange: redeclaring it so works
    pulse_target.declare_exchange(ex)


def test_pulse_publish_declares_a_durable_topic_exchange(pulse_target, names):
    ex = names["exchange"]
    rc, counts, proc = publish(pulse_target.uri(), ex, "nobody.listens", numbered([1]))
    assert (rc, counts) == (0, (1, 1, 0)), proc.describe()
    info = pulse_target.api().get("/api/exchanges/pulse-test/%s" % ex.replace("/", "%2F")).json
    assert (info["type"], info["durable"], info["auto_delete"]) == ("topic", True, False)


def test_pulse_publish_no_envelope_transient(pulse_target, names, kombu_consumer):
    ex = names["exchange"]
    pulse_target.declare_exchange(ex)
    cons = kombu_consumer(names["queue"], ["#"])
    lines = ['{"raw": true, "n": 1}', '[1, 2, 3]', '"just a string"']
    rc, counts, proc = publish(pulse_target.uri(), ex, "raw.key", lines,
                               ["--no-envelope", "--transient"])
    assert (rc, counts) == (0, (3, 3, 0)), proc.describe()
    got = cons.drain(3)
    assert [json.loads(m.body) for _, m in got] == [json.loads(line) for line in lines]
    for _, msg in got:
        assert msg.content_type == "application/json"
        assert msg.properties.get("delivery_mode", 1) != 2


def test_pulse_publish_routes_as_cc(pulse_target, names, kombu_consumer):
    ex = names["exchange"]
    pulse_target.declare_exchange(ex)
    main = kombu_consumer(names["queue"], ["primary.#"])
    routed = kombu_consumer(names["route_queue"], ["route.index.project.foo", "route.other"])
    rc, counts, proc = publish(pulse_target.uri(), ex, "primary.task1.0", numbered([7]),
                               ["--route", "index.project.foo", "--route", "other"])
    assert (rc, counts) == (0, (1, 1, 0)), proc.describe()
    (body, msg), = main.drain(1)
    assert body["payload"] == {"n": 7}
    assert body["_meta"]["routing_key"] == "primary.task1.0"
    assert msg.headers.get("CC") == ["route.index.project.foo", "route.other"]
    # one copy per queue, however many of its routes match
    (rbody, rmsg), = routed.drain(1)
    routed.assert_nothing_more()
    assert rbody == body
    assert rmsg.delivery_info["routing_key"] == "primary.task1.0"


def test_pulse_publish_reports_bad_lines_and_keys(pulse_target, names, kombu_consumer):
    ex = names["exchange"]
    pulse_target.declare_exchange(ex)
    cons = kombu_consumer(names["queue"], ["#"])
    rc, counts, proc = publish(pulse_target.uri(), ex, "k", ['{"n": 1}', "not json", '{"n": 3}'])
    assert (rc, counts) == (1, (2, 2, 1)), proc.describe()
    assert any(line.startswith("pulse-publish: line 2: not JSON: ") for line in proc.err), \
        proc.describe()
    assert [b["payload"]["n"] for b, _ in cons.drain(2)] == [1, 3]
    # a routing key Pulse refuses never reaches the broker
    for bad in ("a..b", ""):
        proc = Publisher(pulse_target.uri(), ex, bad)
        proc.write(numbered([9]))
        proc.close_input()
        assert proc.wait_exit(60) in (1, 2), proc.describe()
    cons.assert_nothing_more()
