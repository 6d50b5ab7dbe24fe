"""Big management operations (listings, export and import of tens of thousands of queues) must
not stall message flow (design §2): while they run, other AMQP clients keep being served.
Also: listings stay consistent while queues come and go under them."""
import http.client
import threading
import time

import pika
import pytest

from harness.broker import target_name
from harness.http_api import q
from harness.util import wait_for

# Enough queues that building the reply takes far longer than an AMQP round trip.
N = 20000 if target_name() == "pulsed" else 3000
LAST = "q%06d" % (N - 1)


class RoundTrips(threading.Thread):
    """Publishes with confirms and fetches back, one at a time, recording when each round trip
    ended, until stopped."""

    def __init__(self, broker, queue):
        super().__init__(daemon=True)
        self.params = broker.pika_params()
        self.queue = queue
        self.done = []
        self.error = None
        self.halt = threading.Event()
        self.ready = threading.Event()

    def run(self):
        try:
            conn = pika.BlockingConnection(self.params)
            ch = conn.channel()
            ch.confirm_delivery()
            ch.queue_declare(self.queue, exclusive=True)
            self.ready.set()
            while not self.halt.is_set():
                ch.basic_publish("", self.queue, b"x")
                m = ch.basic_get(self.queue, auto_ack=True)
                assert m[2] == b"x"
                self.done.append(time.monotonic())
            conn.close()
        except Exception as e:  # reported by the test
            self.error = e
            self.ready.set()

    def during(self, start, end):
        return [t for t in self.done if start < t < end]

    def stop(self):
        self.halt.set()
        self.join(30)
        assert self.error is None, self.error


@pytest.fixture
def big_vhost(api, uname):
    """A vhost holding N queues (imported), deleted afterwards."""
    vhost = uname("big")
    assert api.put("/api/vhosts/" + q(vhost)).status == 201
    assert api.put("/api/permissions/%s/guest" % q(vhost),
                   {"configure": ".*", "write": ".*", "read": ".*"}).status in (201, 204)
    defs = {"queues": [{"name": "q%06d" % i, "durable": False, "auto_delete": False,
                        "arguments": {}} for i in range(N)]}
    r = api.post("/api/definitions/" + q(vhost), defs)
    assert r.status in (201, 204), r
    yield vhost
    api.delete("/api/vhosts/" + q(vhost))


def served_while(broker, uname, action):
    """Runs action() while a client makes round trips; returns (action's result, round trips
    completed while it ran, its duration)."""
    rt = RoundTrips(broker, uname("rt"))
    rt.start()
    assert rt.ready.wait(30)
    while len(rt.done) < 3 and rt.error is None:  # warmed up
        time.sleep(0.01)
    start = time.monotonic()
    result = action()
    end = time.monotonic()
    rt.stop()
    return result, len(rt.during(start, end)), end - start


def test_listing_many_queues_keeps_amqp_flowing(api, broker, big_vhost, uname):
    r, trips, took = served_while(broker, uname, lambda: api.get("/api/queues"))
    assert r.status == 200
    mine = [x["name"] for x in r.json if x["vhost"] == big_vhost]
    assert mine == ["q%06d" % i for i in range(N)]
    # A loop blocked for the whole listing would let at most one round trip through.
    assert trips >= 5, (trips, took)


def test_sorted_paged_listing_of_many_queues(api, big_vhost):
    r = api.get("/api/queues/%s?page=3&page_size=100&sort=name&sort_reverse=true"
                "&columns=name,messages" % q(big_vhost))
    assert r.status == 200
    assert (r.json["total_count"], r.json["filtered_count"], r.json["page_count"]) == (
        N, N, N // 100)
    assert [x["name"] for x in r.json["items"]] == ["q%06d" % i
                                                     for i in range(N - 201, N - 301, -1)]
    assert all(set(x) <= {"name", "messages"} for x in r.json["items"])
    r = api.get("/api/queues/%s?page=1&page_size=500&name=q0000&use_regex=false"
                % q(big_vhost))
    assert r.json["filtered_count"] == 100


def test_bindings_and_export_of_many_queues(api, broker, big_vhost, uname):
    r, trips, _ = served_while(broker, uname,
                               lambda: api.get("/api/bindings/" + q(big_vhost)))
    assert r.status == 200
    assert len(r.json) == N  # the implicit default-exchange binding of each queue
    assert r.json[0] == {"source": "", "vhost": big_vhost, "destination": "q000000",
                         "destination_type": "queue", "routing_key": "q000000",
                         "arguments": {}, "properties_key": "q000000"}
    # These take a fraction of a second: a blocked loop would still let at most one through.
    assert trips >= 2
    r, trips, _ = served_while(broker, uname,
                               lambda: api.get("/api/definitions/" + q(big_vhost)))
    assert r.status == 200
    assert sorted(x["name"] for x in r.json["queues"]) == ["q%06d" % i for i in range(N)]
    assert r.json["bindings"] == []
    assert trips >= 2


def test_import_of_many_queues_keeps_amqp_flowing(api, broker, uname):
    vhost = uname("imp")
    assert api.put("/api/vhosts/" + q(vhost)).status == 201
    try:
        defs = {"queues": [{"name": "i%06d" % i, "durable": True, "auto_delete": False,
                            "arguments": {"x-max-length": 5}} for i in range(N)],
                "exchanges": [{"name": "x", "type": "fanout", "durable": True,
                               "auto_delete": False, "internal": False, "arguments": {}}],
                "bindings": [{"source": "x", "destination": "i%06d" % i,
                              "destination_type": "queue", "routing_key": "",
                              "arguments": {}} for i in range(0, N, 10)]}
        r, trips, took = served_while(
            broker, uname, lambda: api.post("/api/definitions/" + q(vhost), defs))
        assert r.status in (201, 204), r
        assert trips >= 5, (trips, took)
        page = api.get("/api/queues/%s?page=1&page_size=10" % q(vhost)).json
        assert page["total_count"] == N
        got = api.get("/api/queues/%s/i000007" % q(vhost)).json
        assert got["durable"] is True and got["arguments"] == {"x-max-length": 5}
        src = api.get("/api/exchanges/%s/x/bindings/source" % q(vhost)).json
        assert len(src) == N // 10
    finally:
        api.delete("/api/vhosts/" + q(vhost))


@pytest.mark.pulsed_only  # RabbitMQ's text for a refused import entry differs
def test_import_error_midway_reports_the_entry(api, uname):
    vhost = uname("bad")
    assert api.put("/api/vhosts/" + q(vhost)).status == 201
    try:
        defs = {"queues": [{"name": "ok%d" % i, "durable": True, "auto_delete": False,
                            "arguments": {}} for i in range(3000)]}
        defs["queues"].append({"name": "ok5", "durable": False, "auto_delete": False,
                               "arguments": {}})
        r = api.post("/api/definitions/" + q(vhost), defs)
        assert r.status == 400
        assert r.json["error"] == "bad_request"
        assert "inequivalent arg 'durable' for queue 'ok5'" in r.json["reason"]
        # RabbitMQ applies entries one by one: those before the bad one stay.
        assert api.get("/api/queues/%s/ok2999" % q(vhost)).status == 200
    finally:
        api.delete("/api/vhosts/" + q(vhost))


def test_listing_while_queues_come_and_go(api, broker, big_vhost):
    stop = threading.Event()
    errors = []

    def churn():
        try:
            c2 = pika.BlockingConnection(broker.pika_params(vhost=big_vhost))
            ch2 = c2.channel()
            i = 0
            while not stop.is_set():
                ch2.queue_declare("churn%d" % i)
                ch2.queue_delete("q%06d" % (i * 7 % N))
                i += 1
            c2.close()
        except Exception as e:
            errors.append(e)

    t = threading.Thread(target=churn, daemon=True)
    t.start()
    try:
        for _ in range(3):
            r = api.get("/api/queues/" + q(big_vhost) + "?columns=name")
            assert r.status == 200
            names = [x["name"] for x in r.json]
            assert names == sorted(names) and len(names) == len(set(names))
    finally:
        stop.set()
        t.join(30)
    assert not errors, errors


def test_policy_over_many_queues(api, broker, big_vhost):
    path = "/api/policies/%s/lim" % q(big_vhost)
    r = api.put(path, {"pattern": "^q0", "definition": {"max-length": 2}, "apply-to": "queues"})
    assert r.status == 201

    def policies():
        items = api.get("/api/queues/%s?columns=name,policy" % q(big_vhost)).json
        return {x.get("policy") for x in items}

    # pulsed answers once every queue has it; RabbitMQ applies it shortly after.
    wait_for(lambda: policies() == {"lim"}, timeout=60)
    conn = pika.BlockingConnection(broker.pika_params(vhost=big_vhost))
    ch = conn.channel()
    for i in range(5):
        ch.basic_publish("", LAST, b"m%d" % i)
    wait_for(lambda: ch.queue_declare(LAST, passive=True).method.message_count == 2)
    conn.close()
    assert api.delete(path).status == 204
    wait_for(lambda: "lim" not in policies(), timeout=60)


def test_rates_while_sampling_many_queues(api, broker, big_vhost, uname):
    """The 5 s sample walks the queues in slices; each queue's rate is over its own sampling
    interval, so a steady publisher shows its real rate, on the queue, its channel and its
    connection."""
    name = uname("steady")
    conn = pika.BlockingConnection(broker.pika_params(vhost=big_vhost))
    try:
        ch = conn.channel()
        ch.queue_declare(name, exclusive=True)
        path = "/api/queues/%s/%s" % (q(big_vhost), q(name))
        start, sent = time.monotonic(), 0

        def publish_for(seconds):
            nonlocal sent
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                ch.basic_publish("", name, b"x" * 100)
                sent += 1
                conn.sleep(0.005)

        def queue_rate():
            publish_for(1)
            ms = api.get(path).json.get("message_stats", {})
            return ms.get("publish_details", {}).get("rate", 0) > 0 and ms

        # Two samples must have seen the queue; then rates are over a whole interval.
        wait_for(queue_rate, timeout=40, interval=0)
        publish_for(6)
        actual = sent / (time.monotonic() - start)
        rate = api.get(path).json["message_stats"]["publish_details"]["rate"]
        assert 0.5 * actual < rate < 1.5 * actual, (rate, actual)
        port = conn._impl._transport._sock.getsockname()[1]
        chans = api.get("/api/vhosts/%s/channels" % q(big_vhost)).json
        mine = [c for c in chans if c["connection_details"]["peer_port"] == port]
        assert len(mine) == 1
        ch_rate = mine[0]["message_stats"]["publish_details"]["rate"]
        assert 0.5 * actual < ch_rate < 1.5 * actual, (ch_rate, actual)
        conns = api.get("/api/vhosts/%s/connections" % q(big_vhost)).json
        me = [c for c in conns if c["peer_port"] == port]
        assert me and me[0]["recv_oct_details"]["rate"] > 50 * actual
    finally:
        conn.close()


def test_per_object_metrics_of_many_queues_keep_amqp_flowing(broker, big_vhost, uname):
    """A Prometheus scrape of /metrics/per-object lists every queue, and message flow goes on
    meanwhile. (With 20k queues the old one-go rendering on the loop did not block long enough
    for this count to catch it; the figure printed is for the notes.)"""
    def scrape():
        conn = http.client.HTTPConnection(broker.host, broker.prometheus_port, timeout=120)
        try:
            conn.request("GET", "/metrics/per-object")
            r = conn.getresponse()
            return r.status, r.read().decode()
        finally:
            conn.close()
    (status, text), trips, took = served_while(broker, uname, scrape)
    assert status == 200
    ready = [line for line in text.splitlines()
             if line.startswith("rabbitmq_queue_messages_ready{")
             and 'vhost="%s"' % big_vhost in line]
    assert len(ready) == N, len(ready)
    print("per-object scrape of %d queues: %.3f s, %d round trips meanwhile" % (N, took, trips))
    assert trips >= 2, (trips, took)
