"""HTTP push subscriptions (issue 17, src/pulse/push/README.md): /api/pulse/subscriptions on
both of its servers, every test on each: pulsed (in-process queues) and pulse-guardian --listen
in front of a private RabbitMQ 3.10 node (queues read over AMQP). A subscription's callback is
a local HTTP subscriber (harness/push_subscriber.py): Pulse verifies intent with a challenge
GET, then POSTs every matching message, signed with the secret, in order, from a durable queue
of the subscription's own; retries while the subscriber is down; ends at the lease's end, on
410 Gone, or when deleted; keeps everything across a restart (of pulsed; of pulse-guardian,
RabbitMQ running on). Messages are published with pika; pulsectl drives the API too."""
import time

import pika
import pytest

from harness.broker import PulsedBroker, free_port
from harness.http_api import q
from harness.pulse_front import Front, Guardian, RabbitLeftovers
from harness.pulse_targets import broker_for
from harness.push_subscriber import Subscriber

P = "/api/pulse"
EXCHANGE = "exchange/guest/push"
SECRET = "s3cret-key"


# Short retries so a subscriber that comes back is served at once.
CONFIG = {"pulse.push.retry_initial_ms": 100, "pulse.push.retry_max_ms": 500}


def rabbit(registry):
    import conftest
    return broker_for("rabbitmq", registry, lambda: conftest._start({}))


@pytest.fixture(scope="module", params=["pulsed", "guardian"])
def front(request, _broker_registry):
    leftovers = None
    if request.param == "pulsed":
        b = PulsedBroker()
        b.port = free_port()
        b.config = dict(CONFIG)
        f = Front("pulsed", b.start())
    else:
        node = rabbit(_broker_registry)
        leftovers = RabbitLeftovers(node)
        f = Front("guardian", node, Guardian(node, dict(CONFIG)).start())
    conn = f.broker.connect()
    conn.channel().exchange_declare(EXCHANGE, "topic", durable=True)
    conn.close()
    yield f
    f.stop()
    if leftovers:
        leftovers.clean()


@pytest.fixture(scope="module")
def broker(front):
    return front.broker


@pytest.fixture
def subscriber():
    s = Subscriber(SECRET)
    yield s
    s.stop()


def wait_for(predicate, timeout=10, what="condition"):
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError("no %s within %s s" % (what, timeout))
        time.sleep(0.05)


def subscribe(api, subscriber, topic="a.#", lease=3600, **extra):
    body = {"exchange": EXCHANGE, "topic": topic, "callback": subscriber.url, "secret": SECRET,
            "lease_seconds": lease}
    body.update(extra)
    return api.post(P + "/subscriptions", body)


def wait_state(api, sid, state, timeout=10):
    return wait_for(lambda: (lambda r: r.json if r.status == 200 and r.json["state"] == state
                             else None)(api.get(P + "/subscriptions/" + sid)),
                    timeout=timeout, what="subscription %s %s" % (sid, state))


def active(api, subscriber, **kw):
    r = subscribe(api, subscriber, **kw)
    assert r.status == 202, r
    assert r.json["state"] == "verifying"
    return wait_state(api, r.json["id"], "active")


def publish(broker, keys, persistent=False):
    conn = broker.connect()
    ch = conn.channel()
    ch.confirm_delivery()
    props = pika.BasicProperties(content_type="application/json",
                                 delivery_mode=2 if persistent else 1)
    for i, key in enumerate(keys):
        body = ('{"payload": {"n": %d}, "_meta": {"exchange": "%s", "routing_key": "%s", '
                '"serializer": "json", "sent": "2027-01-15T08:00:00+00:00"}}' % (i, EXCHANGE, key))
        ch.basic_publish(EXCHANGE, key, body.encode(), props)
    conn.close()


def queue_of(api, sub):
    return api.get("/api/queues/%2F/" + q(sub["queue"]))


def test_verified_subscription_gets_matching_messages_in_order_signed(front, broker, subscriber):
    api = front.api()
    sub = active(api, subscriber)
    v = subscriber.verifications[0]
    assert v["hub.mode"] == "subscribe" and v["hub.topic"] == "a.#"
    assert v["hub.lease_seconds"] == "3600" and len(v["hub.challenge"]) >= 32
    assert v["pulse.exchange"] == EXCHANGE and v["pulse.subscription"] == sub["id"]
    assert sub["queue"] == "queue/guest/push-" + sub["id"]
    # Its queue is an ordinary durable queue, bound as asked.
    qr = queue_of(api, sub)
    assert qr.status == 200 and qr.json["durable"] is True, qr

    keys = ["a.%d" % i for i in range(30)]
    publish(broker, keys[:15] + ["b.nope"] + keys[15:])
    wait_for(lambda: len(subscriber.bodies) == 30, what="30 deliveries")
    assert subscriber.keys() == keys
    assert subscriber.bad_signatures == 0
    first = subscriber.bodies[0]
    assert first["exchange"] == EXCHANGE and first["redelivered"] is False
    assert first["properties"]["content_type"] == "application/json"
    assert first["body"]["payload"] == {"n": 0}
    assert first["body"]["_meta"]["routing_key"] == "a.0"
    h = subscriber.headers[0]
    assert h["Content-Type"] == "application/json" and h["X-Pulse-Subscription"] == sub["id"]
    assert h["X-Pulse-Delivery"] == sub["id"] + "-1"

    listed = wait_for(lambda: (lambda j: j if j["delivered"] == 30 else None)(
        api.get(P + "/subscriptions/" + sub["id"]).json), what="30 counted")
    assert listed["failed"] == 0 and listed["messages"] == 0 and listed["last_error"] is None
    assert "secret" not in listed
    assert [s["id"] for s in api.get(P + "/subscriptions").json] == [sub["id"]]

    # DELETE ends it: the queue goes, nothing more is pushed.
    assert api.delete(P + "/subscriptions/" + sub["id"]).status == 204
    assert api.get(P + "/subscriptions/" + sub["id"]).status == 404
    assert queue_of(api, sub).status == 404
    assert api.delete(P + "/subscriptions/" + sub["id"]).status == 404


@pytest.mark.parametrize("mode", ["refuse", "wrong"])
def test_refused_verification_fails_the_subscription(front, broker, subscriber, mode):
    api = front.api()
    subscriber.verify_mode = mode
    r = subscribe(api, subscriber)
    assert r.status == 202, r
    failed = wait_state(api, r.json["id"], "failed")
    why = "HTTP 404" if mode == "refuse" else "did not echo the challenge"
    assert failed["reason"].startswith("verification failed") and why in failed["reason"], failed
    assert queue_of(api, failed).status == 404
    publish(broker, ["a.x"])
    assert subscriber.posts == 0
    assert api.delete(P + "/subscriptions/" + failed["id"]).status == 204


def test_unreachable_callback_fails_verification(front):
    api = front.api()
    port = free_port()
    r = api.post(P + "/subscriptions", {"exchange": EXCHANGE, "secret": "x",
                                        "callback": "http://127.0.0.1:%d/" % port})
    assert r.status == 202, r
    failed = wait_state(api, r.json["id"], "failed")
    assert "unreachable" in failed["reason"], failed
    api.delete(P + "/subscriptions/" + failed["id"])


@pytest.mark.parametrize("body,why", [
    ({"exchange": EXCHANGE, "secret": "x", "callback": "ftp://h/"}, "http:// or https://"),
    ({"exchange": EXCHANGE, "secret": "x", "callback": "http:///x"}, "no host"),
    ({"exchange": EXCHANGE, "secret": "x", "callback": "http://h/a b"}, "spaces"),
    ({"exchange": EXCHANGE, "secret": "x", "callback": "http://u:p@h/"}, "user information"),
    ({"exchange": EXCHANGE, "secret": "x", "callback": "http://h/", "topic": "a..b"},
     "empty word"),
    ({"exchange": EXCHANGE, "secret": "x", "callback": "http://h/", "topic": "a.b#"},
     "whole words"),
    ({"exchange": EXCHANGE, "secret": "x", "callback": "http://h/", "lease_seconds": 0},
     "'lease_seconds' must be between"),
    ({"exchange": EXCHANGE, "secret": "x", "callback": "http://h/", "lease_seconds": "9"},
     "whole number"),
    ({"exchange": EXCHANGE, "callback": "http://h/"}, "'secret' is required"),
    ({"secret": "x", "callback": "http://h/"}, "'exchange' is required"),
    ({"exchange": EXCHANGE, "secret": "x", "callback": "http://h/", "colour": 1},
     "unknown field 'colour'"),
])
def test_bad_requests_are_400_naming_the_problem(front, body, why):
    r = front.api().post(P + "/subscriptions", body)
    assert r.status == 400 and r.json["error"] == "bad_request", r
    assert why in r.json["reason"], r


def test_missing_exchange_is_404_and_other_methods_405(front):
    api = front.api()
    r = api.post(P + "/subscriptions", {"exchange": "exchange/guest/none", "secret": "x",
                                        "callback": "http://127.0.0.1:1/"})
    assert r.status == 404 and "no exchange 'exchange/guest/none'" in r.json["reason"], r
    assert api.put(P + "/subscriptions", {}).status == 405
    r = api.request("POST", P + "/subscriptions", raw_body=b"{nope",
                    headers={"Content-Type": "application/json"})
    assert r.status == 400


def test_subscriber_down_messages_wait_in_the_queue_and_arrive_in_order(front, broker, subscriber):
    api = front.api()
    sub = active(api, subscriber)
    subscriber.post_status = 503
    publish(broker, ["a.%d" % i for i in range(5)])
    s = wait_for(lambda: (lambda j: j if j["failed"] >= 3 else None)(
        api.get(P + "/subscriptions/" + sub["id"]).json), what="three failed attempts")
    assert s["last_error"] == "HTTP 503" and s["delivered"] == 0 and s["messages"] == 5, s
    assert s["retrying"] is True
    # Not listening at all: still nothing lost.
    subscriber.stop()
    publish(broker, ["a.%d" % i for i in range(5, 8)])
    wait_for(lambda: "unreachable" in (api.get(P + "/subscriptions/" + sub["id"]).json
                                       ["last_error"] or ""), what="an unreachable attempt")
    subscriber.post_status = 204
    subscriber.start()
    wait_for(lambda: len(subscriber.bodies) == 8, what="8 deliveries after the return")
    assert subscriber.keys() == ["a.%d" % i for i in range(8)]
    # The first one was retried: it was taken from the queue once before.
    assert subscriber.bodies[0]["redelivered"] is False
    api.delete(P + "/subscriptions/" + sub["id"])


def test_410_gone_ends_the_subscription(front, broker, subscriber):
    api = front.api()
    sub = active(api, subscriber)
    subscriber.post_status = 410
    publish(broker, ["a.1", "a.2"])
    ended = wait_state(api, sub["id"], "ended")
    assert "410" in ended["reason"] and ended["messages"] is None
    assert queue_of(api, sub).status == 404
    assert subscriber.posts == 1
    api.delete(P + "/subscriptions/" + sub["id"])


def test_lease_runs_out_and_renewal_extends_it(front, broker, subscriber):
    api = front.api()
    sub = active(api, subscriber, lease=2)
    # Renewal: the same callback and topic; verified again, the lease starts anew.
    other = active(api, subscriber, topic="z.#", lease=60)
    r = subscribe(api, subscriber, topic="z.#", lease=120)
    assert r.status == 202 and r.json["id"] == other["id"], r
    wait_for(lambda: api.get(P + "/subscriptions/" + other["id"]).json["lease_seconds"] == 120,
             what="the renewed lease")
    ended = wait_state(api, sub["id"], "ended", timeout=8)
    assert ended["reason"] == "lease expired"
    assert queue_of(api, sub).status == 404
    wait_for(lambda: any(v.get("hub.mode") == "unsubscribe" for v in subscriber.verifications),
             what="the unsubscribe notice")
    assert api.get(P + "/subscriptions/" + other["id"]).json["state"] == "active"
    for s in (sub, other):
        api.delete(P + "/subscriptions/" + s["id"])


def test_owners_see_only_their_own_and_limits(front, broker, subscriber):
    admin = front.api()
    for email in ("pa@example.com", "pb@example.com"):
        r = admin.put(P + "/owners/" + q(email), {"password": "ownerpw1"})
        assert r.status == 201, r
    pa = admin.as_user("pa@example.com", "ownerpw1")
    pb = admin.as_user("pb@example.com", "ownerpw1")
    sub = active(pa, subscriber, topic="a.b")
    assert sub["owner"] == "pa@example.com" and sub["queue"].startswith("queue/pa@example.com/")
    assert [s["id"] for s in pa.get(P + "/subscriptions").json] == [sub["id"]]
    assert pb.get(P + "/subscriptions").json == []
    assert pb.get(P + "/subscriptions/" + sub["id"]).status == 404
    assert pb.delete(P + "/subscriptions/" + sub["id"]).status == 404
    assert sub["id"] in [s["id"] for s in admin.get(P + "/subscriptions").json]
    # A Pulse user someone else owns cannot name the queue.
    assert pa.put(P + "/users/pauser", {"password": "userpw1"}).status == 201
    r = subscribe(pb, subscriber, user="pauser")
    assert r.status == 403, r
    assert pa.delete(P + "/subscriptions/" + sub["id"]).status == 204


def test_restart_keeps_subscriptions_and_undelivered_messages(front, broker, subscriber):
    api = front.api()
    sub = active(api, subscriber)
    subscriber.post_status = 503
    publish(broker, ["a.%d" % i for i in range(4)], persistent=True)
    wait_for(lambda: subscriber.posts >= 1, what="a failed attempt")
    front.restart()
    s = api.get(P + "/subscriptions/" + sub["id"]).json
    assert s["state"] == "active" and s["callback"] == subscriber.url
    subscriber.post_status = 204
    wait_for(lambda: len(subscriber.bodies) == 4, what="4 deliveries after the restart")
    assert subscriber.keys() == ["a.%d" % i for i in range(4)]
    assert subscriber.bodies[0]["redelivered"] is True
    api.delete(P + "/subscriptions/" + sub["id"])


def test_pulsectl_subscriptions_add_list_show_delete(front, broker, subscriber):
    from pulsectl_common import Ctl
    from harness.broker import built_tool
    ctl = Ctl(built_tool("PULSECTL_BIN", "pulsectl"), broker)
    ctl.url = "http://127.0.0.1:%d" % front.api().pulse_port
    p = ctl.run("pulse", "subscriptions", "add", "--exchange", EXCHANGE, "--topic", "a.#",
                "--callback", subscriber.url, "--secret", SECRET, "--lease", "1h")
    sid = p.stdout.split()[1]
    assert p.stdout.startswith("subscription %s accepted: Pulse verifies %s now" % (
        sid, subscriber.url)), p.stdout
    wait_for(lambda: ctl.json("pulse", "subscriptions", "show", sid)["state"] == "active",
             what="active")
    shown = ctl.json("pulse", "subscriptions", "show", sid)
    assert shown["lease_seconds"] == 3600 and shown["topic"] == "a.#"
    publish(broker, ["a.cli"])
    wait_for(lambda: subscriber.keys() == ["a.cli"], what="the delivery")
    listed = ctl.run("pulse", "subscriptions", "list").stdout.splitlines()
    assert listed[0].split() == ["id", "state", "exchange", "topic", "callback", "delivered",
                                 "failed", "messages"], listed
    row = [line for line in listed if line.startswith(sid)]
    assert row and row[0].split()[1:5] == ["active", EXCHANGE, "a.#", subscriber.url], listed
    err = ctl.error(2, "pulse", "subscriptions", "add", "--exchange", EXCHANGE, "--callback",
                    subscriber.url, "--secret", "x", "--lease", "5x")
    assert "--lease '5x'" in err, err
    err = ctl.error(1, "pulse", "subscriptions", "add", "--exchange", EXCHANGE, "--callback",
                    "ftp://h/", "--secret", "x")
    assert "'callback' must be an http:// or https:// URL" in err, err
    assert ctl.run("pulse", "subscriptions", "delete", sid).stdout == \
        "deleted subscription '%s'\n" % sid
    ctl.error(3, "pulse", "subscriptions", "show", sid)
