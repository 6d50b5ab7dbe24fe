"""@stomp/stompjs in Debian's chromium (playwright-core), loaded as a page loads its UMD bundle,
over Web-STOMP: pulsed's /ws on the HTTP listener, pulsed's own Web-STOMP listener, and RabbitMQ
3.10's rabbitmq_web_stomp. The page subscribes to a topic pattern and gets what pika publishes
(a Pulse envelope with its properties), then publishes one message pika consumes. The page is
one pulsed serves (/examples/browser/), so the socket comes from a pulsed origin."""
import json
import os
import uuid

import pika
import pytest

from harness import node_deps
from harness.broker import HOST, RabbitBroker, free_port
from harness.browser import ARTIFACTS, CHROMIUM, Driver, require_browser

NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")
STOMPJS = os.path.join(NODE_DIR, "node_modules", "@stomp", "stompjs", "bundles",
                       "stomp.umd.min.js")

pytestmark = pytest.mark.pulsed_only  # both brokers in the default run


@pytest.fixture(scope="module")
def playwright():
    require_browser()
    node_deps.ensure(NODE_DIR)


@pytest.fixture(scope="module")
def rabbit_web_stomp():
    port = free_port()
    b = RabbitBroker(plugins=["rabbitmq_stomp", "rabbitmq_web_stomp"],
                     config={"web_stomp.tcp.ip": HOST, "web_stomp.tcp.port": port}).start()
    b.web_stomp_port = port
    yield b
    b.stop()


@pytest.fixture(params=["pulsed-http", "pulsed-web-stomp", "rabbitmq"])
def target(request, broker):
    """(broker carrying the messages, Web-STOMP URL)."""
    if request.param == "pulsed-http":
        return broker, "ws://%s:%d/ws" % (HOST, broker.http_port)
    if request.param == "pulsed-web-stomp":
        return broker, "ws://%s:%d/ws" % (HOST, broker.web_stomp_port)
    rb = request.getfixturevalue("rabbit_web_stomp")
    return rb, "ws://%s:%d/ws" % (HOST, rb.web_stomp_port)


def test_stompjs_in_chromium(playwright, broker, target, request):
    mq, ws_url = target
    tag = uuid.uuid4().hex[:8]
    out_queue = "stompjs-out-" + tag
    conn = pika.BlockingConnection(pika.URLParameters(mq.url()))
    ch = conn.channel()
    ch.queue_declare(out_queue, auto_delete=True)
    ch.queue_bind(out_queue, "amq.topic", "browser." + tag)
    env = dict(os.environ, CHROMIUM=CHROMIUM,
               PAGE_URL="http://%s:%d/examples/browser/" % (HOST, broker.http_port),
               WS_URL=ws_url, PULSE_USER="guest", PULSE_PASSWORD="guest", PULSE_VHOST="/",
               SUB_DEST="/exchange/amq.topic/pulse.%s.#" % tag,
               PUB_DEST="/exchange/amq.topic/browser." + tag, STOMPJS=STOMPJS,
               ARTIFACTS=os.path.join(ARTIFACTS, "stompjs-" + request.node.callspec.id))
    d = Driver(env, script="stompjs_drive.js")
    try:
        c = d.step("connected")
        assert c["version"] == "1.2", c
        d.step("subscribed")
        envelope = {"payload": {"build": 7}, "_meta": {"exchange": "amq.topic",
                                                       "routing_key": "pulse.%s.done" % tag}}
        ch.basic_publish("amq.topic", "pulse.%s.done" % tag, json.dumps(envelope).encode(),
                         pika.BasicProperties(content_type="application/json",
                                              message_id="m-" + tag, headers={"hop": 3}))
        d.go()
        got = d.step("received")["message"]
        assert json.loads(got["body"]) == envelope
        h = got["headers"]
        assert h["content-type"] == "application/json"
        # STOMP's message-id is the broker's delivery id; the AMQP one is amqp-message-id.
        assert h["amqp-message-id"] == "m-" + tag
        assert h["hop"] == "3"
        assert h["destination"] == "/topic/pulse.%s.done" % tag
        d.step("published")
        method, props, body = None, None, None
        for _ in range(50):
            method, props, body = ch.basic_get(out_queue, auto_ack=True)
            if method:
                break
            conn.sleep(0.1)
        assert method, "pika got nothing from the page"
        assert json.loads(body) == {"from": "chromium"}
        assert props.content_type == "application/json"
        assert props.headers["x-pulse"] == "browser"
        d.go()
        done = d.step("done")
        assert done["errors"] == [], done
    finally:
        d.close()
        conn.close()
