"""The live inspector (/inspector) in Debian's chromium, driven by playwright-core (browser/):
sign in, a binding from the shared link and one added by hand, messages published with pika
arrive on the page, filter, pause/resume, download the JSON, clear, remove a binding. The
broker side is checked too: one exclusive auto-delete queue per binding with x-max-length 50
and a consumer prefetch of 10.

Targets: pulsed serving the page and Web-STOMP on its own /ws; and the page served by pulsed
talking to a RabbitMQ 3.10 node's rabbitmq_web_stomp listener (the page's "Web-STOMP URL"), so
the page is known to work with RabbitMQ's semantics.

Screenshots and the downloaded file go to $PULSE_TEST_ARTIFACTS or build/test-artifacts/.
"""
import json
import os
import urllib.parse
import uuid

import pika
import pytest

from harness.browser import ARTIFACTS, CHROMIUM, Driver, require_browser
from harness.broker import RabbitBroker
from harness.broker_base import HOST, free_port
from harness.http_api import HttpApi
from harness.util import wait_for

@pytest.fixture(scope="module")
def playwright():
    require_browser()


@pytest.fixture(scope="module")
def rabbit_web_stomp():
    port = free_port()
    # rabbitmq_stomp too, so the harness moves its STOMP listener off 61613.
    b = RabbitBroker(plugins=["rabbitmq_stomp", "rabbitmq_web_stomp"],
                     config={"web_stomp.tcp.ip": HOST, "web_stomp.tcp.port": port}).start()
    b.web_stomp_url = "ws://%s:%d/ws" % (HOST, port)
    yield b
    b.stop()


@pytest.fixture(params=["pulsed", "rabbitmq-web-stomp"])
def target(request, broker):
    """(broker carrying the messages, Web-STOMP URL typed in the page or "" for its own /ws)."""
    if request.param == "pulsed":
        return request.param, broker, ""
    rb = request.getfixturevalue("rabbit_web_stomp")
    return request.param, rb, rb.web_stomp_url


def binding_queues(api, exchange):
    r = api.get("/api/exchanges/%%2F/%s/bindings/source" % urllib.parse.quote(exchange, safe=""))
    return [b["destination"] for b in r.json or []]


def test_inspector_end_to_end(playwright, broker, target):
    name, mq, ws_url = target
    tag = uuid.uuid4().hex[:8]
    ex_a, ex_b = "exchange/inspector-test/%s/a" % tag, "exchange/inspector-test/%s/b" % tag
    conn = mq.connect()
    ch = conn.channel()
    # The exchange list comes from the page's own server (pulsed) in both cases.
    page_conn = broker.connect() if mq is not broker else conn
    for c in {id(conn): conn, id(page_conn): page_conn}.values():
        for ex in (ex_a, ex_b):
            c.channel().exchange_declare(ex, "topic")
    hash_ = urllib.parse.urlencode([("vhost", "/"), ("e", ex_a), ("k", "pulse.#")])
    page_url = "http://%s:%d/inspector/#%s" % (HOST, broker.http_port, hash_)
    artifacts = os.path.join(ARTIFACTS, "inspector-" + name)
    env = dict(os.environ, PAGE_URL=page_url, PULSE_USER="guest", PULSE_PASSWORD="guest",
               WS_URL=ws_url, EXCHANGE2=ex_b, PATTERN2="build.*", ARTIFACTS=artifacts,
               CHROMIUM=CHROMIUM)
    d = Driver(env)
    api = HttpApi(mq)
    try:
        wrong = d.step("wrong-password")
        assert "Sign-in failed" in wrong["error"], wrong

        s = d.step("signed-in")
        assert "signed in as guest" in s["status"], s
        assert s["bindings"] == [[ex_a, "pulse.#"], [ex_b, "build.*"]], s
        assert urllib.parse.parse_qsl(s["hash"][1:]) == [
            ("vhost", "/"), ("e", ex_a), ("k", "pulse.#"), ("e", ex_b), ("k", "build.*")], s
        assert ex_a in s["exchangeOptions"] and ex_b in s["exchangeOptions"], s

        # The broker side: one temporary queue per binding, capped, with a prefetch of 10.
        queues = wait_for(lambda: binding_queues(api, ex_a) and binding_queues(api, ex_b) and
                          binding_queues(api, ex_a) + binding_queues(api, ex_b), timeout=10)
        assert len(queues) == 2, queues
        for q in queues:
            info = wait_for(lambda: api.get("/api/queues/%%2F/%s" % urllib.parse.quote(q, safe=""))
                            .json, timeout=10)
            assert info["arguments"].get("x-max-length") == 50, info
            assert info["exclusive"] is True and info["auto_delete"] is True, info
        # RabbitMQ's management stats catch up with its consumers a little later, one by one.
        consumers = wait_for(lambda: len(listed := [c for c in api.get("/api/consumers").json
                                                    if c["queue"]["name"] in queues]) >= 2
                             and listed, timeout=10)
        assert sorted(c["prefetch_count"] for c in consumers) == [10, 10], consumers
        assert all(c["ack_required"] for c in consumers), consumers

        envelope = {"payload": {"beat": 1, "who": "inspector"},
                    "_meta": {"exchange": ex_a, "routing_key": "pulse.heartbeat",
                              "serializer": "json", "sent": "2024-05-01T12:00:00+00:00"}}
        props = pika.BasicProperties(content_type="application/json")
        ch.basic_publish(ex_a, "pulse.heartbeat", json.dumps(envelope), props)
        ch.basic_publish(ex_a, "other.heartbeat", json.dumps({"not": "shown"}), props)
        ch.basic_publish(ex_b, "build.finished", json.dumps({"result": "ok"}), props)
        d.go()
        got = d.step("received")["messages"]
        # Both arrive; their order is not fixed, as they come through two queues (RabbitMQ
        # delivered them either way round in CI).
        assert sorted((m["exchange"], m["key"]) for m in got) == [
            (ex_a, "pulse.heartbeat"), (ex_b, "build.finished")], got
        beat = [m for m in got if m["key"] == "pulse.heartbeat"][0]
        assert json.loads(beat["payload"]) == envelope["payload"], got
        assert beat["payload"].startswith('{\n  "beat": 1'), got  # pretty-printed
        assert beat["sent"] == "sent 2024-05-01T12:00:00+00:00", got
        build = [m for m in got if m["key"] == "build.finished"][0]
        assert json.loads(build["payload"]) == {"result": "ok"}, got

        f = d.step("filtered")
        assert [m["key"] for m in f["messages"]] == ["pulse.heartbeat"], f
        assert f["counts"] == "2 messages, 1 shown", f

        assert d.step("paused")["pressed"] == "true"
        ch.basic_publish(ex_a, "pulse.while-paused", json.dumps({"n": 3}), props)
        d.go()
        p = d.step("while-paused")
        assert p["shown"] == 2 and "paused (1 waiting)" in p["counts"], p
        r = d.step("resumed")
        assert r["shown"] == 3 and r["counts"] == "3 messages", r

        dl = d.step("downloaded")
        assert dl["name"].startswith("pulse-inspector-") and dl["name"].endswith(".json"), dl
        content = dl["content"]
        # In arrival order: the first two either way round (two queues), then the third.
        assert sorted((m["exchange"], m["routingKey"]) for m in content[:2]) == [
            (ex_a, "pulse.heartbeat"), (ex_b, "build.finished")], content
        assert (content[2]["exchange"], content[2]["routingKey"]) == (ex_a, "pulse.while-paused")
        beat = [m for m in content if m["routingKey"] == "pulse.heartbeat"][0]
        assert beat["body"] == envelope and content[2]["body"] == {"n": 3}, content
        assert beat["headers"]["content-type"] == "application/json", content
        assert all(m["receivedAt"].endswith("Z") for m in content), content

        c = d.step("cleared")
        assert c["shown"] == 0 and c["counts"] == "0 messages", c

        rm = d.step("removed")
        assert rm["bindings"] == 1 and "e=" in rm["hash"] and "build" not in rm["hash"], rm
        assert wait_for(lambda: binding_queues(api, ex_b) == [], timeout=10,
                        msg="the binding's queue to go")
        d.go()
        done = d.step("done")
        assert done["errors"] == [], done
        assert os.path.exists(os.path.join(artifacts, "03-messages.png"))
    finally:
        d.close()
        for c in {id(conn): conn, id(page_conn): page_conn}.values():
            for ex in (ex_a, ex_b):
                c.channel().exchange_delete(ex)
            c.close()
