"""POST /api/pulse/guardian/notices (src/pulse/api/README.md): an administrator tells a queue's
owner something before acting. On both fronts (pulsed, and pulse-guardian --listen in front of
a private RabbitMQ 3.10 node, as test_pulse_api.py): the notice is published on
exchange/pulse/guardian with routing key operator.<owner> (a pika subscriber receives it), is
listed to that queue's owner and to no other, and names who wrote it; owners may not send one;
bad bodies and unknown queues get clear errors."""
import json
import time

import pika

from harness.http_api import q
from harness.pulse_front import P
from harness.util import unique
from test_pulse_api import front, broker, make_owner, make_user, wait_for  # noqa: F401 (fixtures)

NOTICES = "exchange/pulse/guardian"


def names():
    tag = unique("n").replace(".", "")
    return "%s@example.com" % tag, "u" + tag


def test_an_operators_notice_reaches_a_subscriber_and_only_the_queues_owner(front, broker):
    admin = front.api()
    email, user = names()
    other_email, other_user = names()
    owner = make_owner(admin, email)
    other = make_owner(admin, other_email)
    make_user(owner, user, "userpw1")
    make_user(other, other_user, "userpw1")
    queue = "queue/%s/q" % user

    conn = broker.connect(user, "userpw1")
    ch = conn.channel()
    ch.queue_declare(queue, durable=True, auto_delete=False)
    exchange = "exchange/%s/x" % user
    ch.exchange_declare(exchange, "topic", auto_delete=True)
    ch.queue_bind(queue, exchange, "some.key")
    wait_for(lambda: admin.get("/api/queues/%2F/" + q(queue)).status == 200, timeout=10,
             what="the queue in the management API")

    watch = broker.connect()
    wch = watch.channel()
    sub = wch.queue_declare("", exclusive=True).method.queue
    wch.queue_bind(sub, NOTICES, "operator.#")

    text = "We will delete %s tomorrow: it grows by 1000 messages an hour.\nAsk us first." % queue
    r = admin.post(P + "/guardian/notices", {"vhost": "/", "queue": queue, "message": text})
    assert r.status == 201, r
    sent = r.json
    assert sent["event"] == "operator"
    assert sent["operator"] == "guest"
    assert sent["message"] == text
    assert sent["owner"] == user and sent["queue"] == queue and sent["vhost"] == "/"
    assert sent["routing_key"] == "operator." + user
    assert {"exchange": exchange, "routing_key": "some.key"} in sent["bindings"]
    assert isinstance(sent["id"], int)

    got = None
    deadline = time.time() + 10
    while got is None and time.time() < deadline:
        method, props, body = wch.basic_get(sub, auto_ack=True)
        if method is None:
            time.sleep(0.1)
        else:
            got = (method, props, json.loads(body))
    assert got is not None, "no notice on " + NOTICES
    method, props, body = got
    assert method.exchange == NOTICES and method.routing_key == "operator." + user
    assert props.content_type == "application/json"
    assert body["_meta"]["exchange"] == NOTICES
    payload = body["payload"]
    assert payload["event"] == "operator" and payload["message"] == text
    assert payload["operator"] == "guest" and payload["queue"] == queue

    mine = owner.get(P + "/guardian/notices").json
    assert [n for n in mine if n["event"] == "operator"] == [sent]
    assert [n for n in other.get(P + "/guardian/notices").json if n["event"] == "operator"] == []
    assert admin.get(P + "/guardian").json["last_notice_id"] >= sent["id"]

    # Owners (the queue's own included) may not send one; bad bodies and missing queues.
    r = owner.post(P + "/guardian/notices", {"vhost": "/", "queue": queue, "message": "x"})
    assert r.status == 403 and r.json["reason"] == "only administrators may send notices", r
    for body, status, reason in [
            ({"vhost": "/", "queue": queue}, 400, "'message' is missing"),
            ({"vhost": "/", "queue": queue, "message": ""}, 400, "'message' is empty"),
            ({"vhost": "/", "queue": queue, "message": "m" * 1001}, 400,
             "'message' is longer than 1000 characters"),
            ({"vhost": "/", "queue": queue, "message": "m", "x": 1}, 400,
             "unknown field 'x' (expected vhost, queue, message)"),
            ({"vhost": "/", "queue": queue + "-none", "message": "m"}, 404,
             "no queue '%s-none' in vhost '/'" % queue)]:
        r = admin.post(P + "/guardian/notices", body)
        assert (r.status, r.json["reason"]) == (status, reason), (body, r)
    assert [n for n in owner.get(P + "/guardian/notices").json if n["event"] == "operator"] == \
        [sent]

    ch.queue_delete(queue)
    conn.close()
    watch.close()
    for o, u in ((owner, user), (other, other_user)):
        assert o.delete(P + "/users/" + u).status == 204
    for e in (email, other_email):
        assert admin.delete(P + "/owners/" + q(e)).status == 204


def test_an_operators_notice_is_mailed_to_the_queues_owner():
    """pulsed with pulse.smtp.*: the mail goes to the owner's email (the owner of the Pulse user
    whose queue it is) and the admins, naming the writer and carrying the message as written.
    (pulse-guardian's mailer is the same SmtpNoticeSink behind the same runner.)"""
    from harness.broker import PulsedBroker, free_port
    from harness.http_api import HttpApi
    from harness.smtp_sink import Server

    with Server() as smtp:
        b = PulsedBroker()
        b.port = free_port()
        b.config = {"pulse.accounts.connection_url": "amqp://127.0.0.1:%d" % b.port,
                    "pulse.guardian.enabled": True, "pulse.guardian.interval": 60,
                    "pulse.smtp.host": "127.0.0.1", "pulse.smtp.port": smtp.port,
                    "pulse.smtp.from": "pulse@guardian.example",
                    "pulse.smtp.admins.1": "ops@example.org"}
        b.start()
        try:
            admin = HttpApi(b)
            email, user = names()
            owner = make_owner(admin, email)
            make_user(owner, user)
            queue = "queue/%s/mailed" % user
            conn = b.connect()
            conn.channel().queue_declare(queue)
            text = "Your queue %s will be deleted at noon." % queue
            r = admin.post(P + "/guardian/notices", {"vhost": "/", "queue": queue, "message": text})
            assert r.status == 201, r
            mail = wait_for(lambda: smtp.handler.mails, timeout=15, what="the notice's mail")[0]
            assert sorted(mail["rcpt_tos"]) == sorted([email, "ops@example.org"]), mail
            msg = mail["msg"]
            assert msg["Subject"] == ('Pulse notice: queue "%s": a message from a Pulse '
                                      'administrator' % queue)
            assert msg["X-Pulse-Notice"] == "operator." + user
            body = msg.get_content()
            assert "A Pulse administrator (guest) writes about your queue" in body, body
            assert text in body, body
            conn.close()
        finally:
            b.stop()
