"""RabbitMQ's range queries on the management API (lengths_age/lengths_incr,
msg_rates_age/msg_rates_incr), which the admin UI's charts read: every *_details object of the
overview, a vhost and a queue gains `samples` (newest first, one every incr seconds back to age,
timestamps in whole seconds), `avg` and `avg_rate`. Same assertions on pulsed and on a
RabbitMQ 3.10 node."""
import time
import uuid

import pika
import pytest

from harness.http_api import q

RANGE = "lengths_age=60&lengths_incr=5&msg_rates_age=60&msg_rates_incr=5"


def check_shape(details, count, incr_ms):
    samples = details["samples"]
    assert len(samples) == count, details
    stamps = [s["timestamp"] for s in samples]
    # Whole seconds (RabbitMQ's alignment depends on age and incr; pulsed's newest is on its 5 s
    # sampling grid).
    assert stamps[0] % 1000 == 0, stamps
    assert all(a - b == incr_ms for a, b in zip(stamps, stamps[1:])), stamps
    # Within a sampling interval or two of now (the newest sample is the last full one).
    assert abs(stamps[0] - time.time() * 1000) < 15000, stamps
    values = [s["sample"] for s in samples]
    assert details["avg"] == pytest.approx(sum(values) / len(values))
    span = (stamps[0] - stamps[-1]) / 1000.0
    assert details["avg_rate"] == pytest.approx((values[0] - values[-1]) / span)
    assert "rate" in details
    return values


@pytest.fixture
def queue(pulse_target):
    name = "history-" + uuid.uuid4().hex[:8]
    conn = pika.BlockingConnection(pika.URLParameters(pulse_target.broker.url()))
    ch = conn.channel()
    ch.queue_declare(name)
    yield name, ch
    ch.queue_delete(name)
    conn.close()


def newest(obj, *keys):
    """The newest sample at obj[keys...]["samples"], None while there is none (RabbitMQ shows a
    new queue's statistics only after its first sample)."""
    for k in keys:
        obj = obj.get(k) if isinstance(obj, dict) else None
    samples = (obj or {}).get("samples") or [{}]
    return samples[0].get("sample")


def wait_for(fetch, pred, timeout=20):
    deadline = time.time() + timeout
    while True:
        value = fetch()
        if pred(value) or time.time() > deadline:
            return value
        time.sleep(0.5)


def test_queue_samples_follow_its_length_and_counters(pulse_target, queue):
    name, ch = queue
    api = pulse_target.api()
    for _ in range(7):
        ch.basic_publish("", name, b"x")
    path = "/api/queues/%%2F/%s?%s" % (q(name), RANGE)
    j = wait_for(lambda: api.get(path).json,
                 lambda j: newest(j, "messages_details") == 7
                 and newest(j, "message_stats", "publish_details") == 7)
    values = check_shape(j["messages_details"], 13, 5000)
    assert values[0] == 7 and values[-1] == 0, values  # declared within the last minute
    check_shape(j["messages_ready_details"], 13, 5000)
    assert check_shape(j["messages_unacknowledged_details"], 13, 5000) == [0] * 13
    publish = check_shape(j["message_stats"]["publish_details"], 13, 5000)
    assert publish[0] == 7
    # Nothing delivered yet: only the publish counter, as RabbitMQ's queue stats show it.
    assert set(j["message_stats"]) == {"publish", "publish_details"}, j["message_stats"]
    ch.basic_get(name, auto_ack=False)
    j = wait_for(lambda: api.get(path).json,
                 lambda j: newest(j, "messages_unacknowledged_details") == 1
                 and newest(j, "message_stats", "deliver_get_details") == 1)
    assert check_shape(j["messages_unacknowledged_details"], 13, 5000)[0] == 1
    assert check_shape(j["messages_ready_details"], 13, 5000)[0] == 6
    assert check_shape(j["message_stats"]["get_details"], 13, 5000)[0] == 1
    assert check_shape(j["message_stats"]["deliver_get_details"], 13, 5000)[0] == 1
    assert check_shape(j["message_stats"]["ack_details"], 13, 5000) == [0] * 13


def test_uneven_increment_and_the_queue_list(pulse_target, queue):
    name, ch = queue
    ch.basic_publish("", name, b"x")
    api = pulse_target.api()
    j = wait_for(lambda: api.get("/api/queues/%%2F/%s?lengths_age=20&lengths_incr=7" % q(name)).json,
                 lambda j: newest(j, "messages_details") == 1)
    check_shape(j["messages_details"], 3, 7000)
    assert "message_stats" not in j or "samples" not in j["message_stats"].get(
        "publish_details", {})
    listed = [x for x in api.get("/api/queues/%2F?" + RANGE).json if x["name"] == name]
    assert len(listed) == 1
    check_shape(listed[0]["messages_details"], 13, 5000)


def test_overview_and_vhost(pulse_target, queue):
    name, ch = queue
    for _ in range(3):
        ch.basic_publish("", name, b"x")
    api = pulse_target.api()
    o = wait_for(lambda: api.get("/api/overview?" + RANGE).json,
                 lambda o: (newest(o, "queue_totals", "messages_details") or 0) >= 3)
    assert check_shape(o["queue_totals"]["messages_details"], 13, 5000)[0] >= 3
    check_shape(o["queue_totals"]["messages_ready_details"], 13, 5000)
    check_shape(o["queue_totals"]["messages_unacknowledged_details"], 13, 5000)
    assert check_shape(o["message_stats"]["publish_details"], 13, 5000)[0] >= 3
    v = api.get("/api/vhosts/%2F?" + RANGE).json
    assert check_shape(v["messages_details"], 13, 5000)[0] >= 3
    check_shape(v["message_stats"]["publish_details"], 13, 5000)


def test_exchange_samples(pulse_target, queue):
    name, ch = queue
    x = "history-x-" + uuid.uuid4().hex[:8]
    ch.exchange_declare(x, "fanout")
    try:
        ch.queue_bind(name, x)
        for _ in range(4):
            ch.basic_publish(x, "", b"x")
        api = pulse_target.api()
        path = "/api/exchanges/%%2F/%s?msg_rates_age=60&msg_rates_incr=5" % q(x)
        j = wait_for(lambda: api.get(path).json,
                     lambda j: newest(j, "message_stats", "publish_in_details") == 4
                     and newest(j, "message_stats", "publish_out_details") == 4)
        assert check_shape(j["message_stats"]["publish_in_details"], 13, 5000)[0] == 4
        assert check_shape(j["message_stats"]["publish_out_details"], 13, 5000)[0] == 4
        listed = [e for e in api.get("/api/exchanges/%2F?msg_rates_age=60&msg_rates_incr=5").json
                  if e["name"] == x]
        assert check_shape(listed[0]["message_stats"]["publish_in_details"], 13, 5000)[0] == 4
        # Without a range: the rate alone.
        plain = api.get("/api/exchanges/%%2F/%s" % q(x)).json
        assert "samples" not in plain["message_stats"]["publish_in_details"], plain
    finally:
        ch.exchange_delete(x)


@pytest.mark.parametrize("query", ["", "lengths_age=60", "lengths_incr=5",
                                   "lengths_age=abc&lengths_incr=5",
                                   "lengths_age=60&lengths_incr=5.5"])
def test_without_a_valid_range_there_are_no_samples(pulse_target, queue, query):
    name, ch = queue
    ch.basic_publish("", name, b"x")
    api = pulse_target.api()
    j = wait_for(lambda: api.get("/api/queues/%%2F/%s?%s" % (q(name), query)).json,
                 lambda j: "messages_details" in j)
    assert "samples" not in j["messages_details"], j["messages_details"]
    o = api.get("/api/overview?" + query).json
    assert "samples" not in o["queue_totals"]["messages_details"]


@pytest.mark.parametrize("age,incr", [(60, 0), (0, 5), (-5, 5), (2505, 5), (501, 1)])
def test_integers_out_of_range_are_a_bad_request(pulse_target, queue, age, incr):
    name, _ = queue
    api = pulse_target.api()
    reason = "Invalid range parameters: age %d, incr %d" % (age, incr)
    # RabbitMQ's error tag differs between its listings and the rest.
    for path, error in (("/api/overview", "bad_request"),
                        ("/api/queues", "invalid_range_parameters"),
                        ("/api/queues/%2F", "invalid_range_parameters"),
                        ("/api/queues/%2F/" + q(name), "bad_request"),
                        ("/api/vhosts", "invalid_range_parameters"),
                        ("/api/vhosts/%2F", "bad_request"),
                        ("/api/exchanges", "invalid_range_parameters"),
                        ("/api/exchanges/%2F/amq.direct", "bad_request"),
                        ("/api/connections", "bad_request"),
                        ("/api/channels", "bad_request"),
                        ("/api/nodes", "bad_request")):
        r = api.get("%s?msg_rates_age=%d&msg_rates_incr=%d" % (path, age, incr))
        assert r.status == 400, (path, r)
        assert r.json == {"error": error, "reason": reason}, (path, r.json)
    # Endpoints without statistics ignore them; a missing queue is still 404.
    assert api.get("/api/users?lengths_age=%d&lengths_incr=%d" % (age, incr)).status == 200
    assert api.get("/api/queues/%%2F/nope?lengths_age=%d&lengths_incr=%d" % (age, incr)).status \
        == 404
    # 500 increments are still fine.
    r = api.get("/api/overview?lengths_age=2500&lengths_incr=5")
    assert r.status == 200 and len(r.json["queue_totals"]["messages_details"]["samples"]) == 501


def test_length_rates_follow_a_growing_queue(pulse_target, queue):
    """messages_details.rate is the length's change per second over the last sample, on the
    queue, its vhost and the overview's queue_totals (not always 0)."""
    name, ch = queue
    api = pulse_target.api()
    seen = {}
    deadline = time.time() + 30
    while time.time() < deadline and len(seen) < 3:
        for _ in range(5):
            ch.basic_publish("", name, b"x")
        time.sleep(0.25)
        qd = api.get("/api/queues/%%2F/%s" % q(name)).json.get("messages_details", {})
        vd = api.get("/api/vhosts/%2F").json.get("messages_details", {})
        od = api.get("/api/overview").json["queue_totals"].get("messages_details", {})
        for key, d in (("queue", qd), ("vhost", vd), ("overview", od)):
            if d.get("rate", 0) > 0:
                seen[key] = d["rate"]
    assert set(seen) == {"queue", "vhost", "overview"}, seen
    # About 20 messages a second go in.
    assert 2 < seen["queue"] < 200, seen
