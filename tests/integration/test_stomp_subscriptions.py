"""Durable topic subscriptions, temp-queue replies, x-* queue arguments and the management
API's view of STOMP sessions, on pulsed and RabbitMQ 3.10."""
import base64
import hashlib
import struct
import time
import uuid

from harness.http_api import q
from harness.stomp_helpers import close, connect_target


def erl_string(s):
    b = s.encode()
    return b"\x6a" if not b else b"\x6b" + struct.pack(">H", len(b)) + b


def subscription_queue(name, sub_id):
    """RabbitMQ's name: md5 of term_to_binary({Name, Id}), base64url without padding."""
    term = b"\x83\x68\x02" + erl_string(name) + erl_string(sub_id)
    digest = base64.urlsafe_b64encode(hashlib.md5(term).digest()).rstrip(b"=").decode()
    return "stomp-subscription-" + digest


def wait_for(pred, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("condition not met")


def test_durable_topic_subscription_survives_reconnect(pulse_target):
    key = "dur." + uuid.uuid4().hex[:8]
    qname = subscription_queue(key, "d1")
    hdrs = {"durable": "true", "auto-delete": "false", "receipt": "sub"}
    c, col = connect_target(pulse_target)
    c.subscribe("/topic/" + key, id="d1", ack="client-individual", headers=hdrs)
    assert col.receipt() == "sub"
    close(c)
    api = pulse_target.api()
    qinfo = api.get("/api/queues/%s/%s" % (q(pulse_target.vhost), q(qname))).json
    assert (qinfo["durable"], qinfo["auto_delete"], qinfo["exclusive"]) == (True, False, False)
    p, pcol = connect_target(pulse_target)
    p.send("/topic/" + key, b"while away", headers={"persistent": "true", "receipt": "s"})
    assert pcol.receipt() == "s"
    close(p)
    c, col = connect_target(pulse_target)
    try:
        c.subscribe("/topic/" + key, id="d1", ack="client-individual", headers=hdrs)
        assert col.receipt() == "sub"
        m = col.message()
        assert m.body == b"while away" and m.headers["subscription"] == "d1"
        c.ack(m.headers["ack"])
        c.unsubscribe("d1", headers={"durable": "true", "receipt": "gone"})
        assert col.receipt() == "gone"
    finally:
        close(c)
    assert api.get("/api/queues/%s/%s" % (q(pulse_target.vhost), q(qname))).status == 404


def test_non_durable_topic_queue_goes_with_the_subscription(pulse_target):
    key = "tmp." + uuid.uuid4().hex[:8]
    c, col = connect_target(pulse_target)
    api = pulse_target.api()
    try:
        c.subscribe("/topic/" + key, id="t", headers={"receipt": "r"})
        assert col.receipt() == "r"
        bindings = api.get("/api/exchanges/%s/amq.topic/bindings/source"
                           % q(pulse_target.vhost)).json
        names = [b["destination"] for b in bindings if b["routing_key"] == key]
        assert len(names) == 1 and names[0].startswith("stomp-subscription-")
        info = api.get("/api/queues/%s/%s" % (q(pulse_target.vhost), q(names[0]))).json
        assert (info["durable"], info["auto_delete"], info["exclusive"]) == (False, True, False)
        c.unsubscribe("t", headers={"receipt": "u"})
        assert col.receipt() == "u"
        wait_for(lambda: api.get("/api/queues/%s/%s" % (q(pulse_target.vhost), q(names[0])))
                 .status == 404)
    finally:
        close(c)


def test_temp_queue_reply(pulse_target):
    svc = "svc-" + uuid.uuid4().hex[:8]
    server, scol = connect_target(pulse_target)
    client, ccol = connect_target(pulse_target)
    try:
        server.subscribe("/queue/" + svc, id="svc", headers={"receipt": "r"})
        assert scol.receipt() == "r"
        client.send("/queue/" + svc, b"ping", headers={"reply-to": "/temp-queue/answers"})
        req = scol.message()
        reply_to = req.headers["reply-to"]
        assert reply_to.startswith("/reply-queue/amq.gen-")
        server.send(reply_to, b"pong")
        m = ccol.message()
        assert m.body == b"pong"
        assert m.headers["subscription"] == "/temp-queue/answers"
        assert m.headers["destination"] == "/queue/" + reply_to[len("/reply-queue/"):]
    finally:
        close(server)
        close(client)
        pulse_target.delete(queues=[svc])


def test_queue_arguments_from_headers(pulse_target):
    name = "args-" + uuid.uuid4().hex[:8]
    c, col = connect_target(pulse_target)
    try:
        c.subscribe("/queue/" + name, id="a", headers={
            "x-max-length": "10", "x-message-ttl": "60000", "x-queue-type": "classic",
            "x-dead-letter-exchange": "dlx", "receipt": "r"})
        assert col.receipt() == "r"
        info = pulse_target.api().get("/api/queues/%s/%s" % (q(pulse_target.vhost), name)).json
        assert info["arguments"] == {"x-max-length": 10, "x-message-ttl": 60000,
                                     "x-queue-type": "classic", "x-dead-letter-exchange": "dlx"}
    finally:
        close(c)
        pulse_target.delete(queues=[name])


def test_management_lists_and_closes_stomp_connections(pulse_target):
    name = "mgmt-" + uuid.uuid4().hex[:8]
    c, col = connect_target(pulse_target)
    api = pulse_target.api()
    try:
        c.subscribe("/queue/" + name, id="m1", ack="client", headers={"prefetch-count": "7",
                                                                      "receipt": "r"})
        assert col.receipt() == "r"

        def mine():
            return [x for x in api.get("/api/connections").json
                    if x.get("protocol", "").startswith("STOMP") and x["user"] == pulse_target.user
                    and x["vhost"] == pulse_target.vhost]
        conns = wait_for(mine)
        assert len(conns) == 1
        conn = conns[0]
        assert (conn["protocol"], conn["type"], conn["channels"], conn["channel_max"],
                conn["frame_max"]) == ("STOMP 1.2", "direct", 1, 1, 0)
        assert conn["client_properties"] == {"product": "STOMP client"}
        consumers = wait_for(lambda: [x for x in api.get("/api/consumers").json
                                      if x["queue"]["name"] == name])
        assert consumers[0]["consumer_tag"] == "T_m1"
        assert consumers[0]["ack_required"] is True
        assert consumers[0]["prefetch_count"] == 7
        # RabbitMQ's channel statistics lag by up to its collect interval (5 s).
        chans = wait_for(lambda: [x for x in api.get("/api/channels").json
                                  if x["connection_details"]["name"] == conn["name"]
                                  and x.get("prefetch_count") == 7])
        assert len(chans) == 1 and chans[0]["number"] == 1
        assert api.delete("/api/connections/" + q(conn["name"])).status == 204
        e = col.error()
        # rabbitmq_stomp reports the death of its AMQP connection, Erlang's reason printed.
        assert e.headers["message"] == "AMQP channel died"
        assert e.body == (b'Reason: {shutdown,\n            {connection_closing,\n'
                          b'                {server_initiated_close,320,'
                          b'"Closed via management plugin"}}}')
        wait_for(lambda: not mine())
    finally:
        close(c)
        pulse_target.delete(queues=[name])
