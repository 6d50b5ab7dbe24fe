"""The Pulse guardian inside pulsed (issue 14): pulse.guardian.* in the config file, polls every
second over the in-process admin, notices in the Pulse envelope on exchange/pulse/guardian
(routing key <event>.<owner>) and in the log; queues deleted past the deletion threshold or idle,
old connections closed with 320 CONNECTION_FORCED. Real pika publishers and consumers.

pulsed only: this is pulsed's in-process runner (the standalone pulse-guardian against RabbitMQ
comes later). Small thresholds and a 1 s interval keep every wait short."""
import json
import os
import time

import pika
import pytest

from harness.broker import PulsedBroker, run_pulsed_until_exit
from harness.http_api import HttpApi
from harness.smtp_sink import Server
from harness.util import unique

NOTICES = "exchange/pulse/guardian"
GUARDIAN = {
    "pulse.guardian.enabled": True,
    "pulse.guardian.interval": 1,
    "pulse.guardian.warn_queue_size": 5,
    "pulse.guardian.delete_queue_size": 10,
    # bob may grow to 20 before deletion; this queue is never deleted.
    "pulse.guardian.owners.bob.delete_queue_size": 20,
    "pulse.guardian.unbounded.1": "queue/alice/unbounded",
}


def start(config):
    return PulsedBroker(config=config).start()


@pytest.fixture(scope="module")
def broker():
    b = start(GUARDIAN)
    yield b
    b.stop()


class Subscriber:
    """A consumer of every notice: an exclusive queue bound to exchange/pulse/guardian with '#',
    consumed with auto-ack (so the guardian never finds it growing)."""

    def __init__(self, broker):
        self.conn = broker.connect()
        self.ch = self.conn.channel()
        self.queue = self.ch.queue_declare("", exclusive=True).method.queue
        self.ch.queue_bind(self.queue, NOTICES, "#")
        self.got = []
        self.ch.basic_consume(self.queue, self._on_message, auto_ack=True)

    def _on_message(self, _ch, method, props, body):
        self.got.append((method, props, json.loads(body)))

    def wait(self, routing_key, queue=None, timeout=8):
        """The first notice with this routing key (and queue), waiting for it."""
        deadline = time.time() + timeout
        while True:
            for method, props, body in self.got:
                if method.routing_key == routing_key and (
                        queue is None or body["payload"].get("queue") == queue):
                    return method, props, body
            if time.time() > deadline:
                raise AssertionError("no %s notice for %s within %s s; got %r" % (
                    routing_key, queue, timeout, [m.routing_key for m, _, _ in self.got]))
            self.conn.process_data_events(0.1)

    def keys_for(self, queue):
        self.conn.process_data_events(0)
        return [m.routing_key for m, _, b in self.got if b["payload"].get("queue") == queue]

    def close(self):
        if self.conn.is_open:
            self.conn.close()


@pytest.fixture
def notices(broker):
    s = Subscriber(broker)
    yield s
    s.close()


def publish(ch, n, exchange, routing_key):
    for i in range(n):
        ch.basic_publish(exchange, routing_key, b"m%d" % i)


def exists(broker, queue):
    c = broker.connect()
    try:
        c.channel().queue_declare(queue, passive=True)
        return True
    except pika.exceptions.ChannelClosedByBroker as e:
        assert e.reply_code == 404, e
        return False
    finally:
        if c.is_open:
            c.close()


def log_text(broker):
    with open(broker.log_path, errors="replace") as f:
        return f.read()


def test_warning_back_to_normal_then_deleted(broker, notices):
    q = "queue/alice/q1"
    x = "exchange/alice/x"
    pub = broker.connect()
    ch = pub.channel()
    ch.exchange_declare(x, "topic", durable=True)
    ch.queue_declare(q)
    ch.queue_bind(q, x, "a.#")
    try:
        publish(ch, 6, x, "a.b")
        method, props, body = notices.wait("warning.alice", q)
        # The Pulse envelope, persistent JSON.
        assert props.content_type == "application/json"
        assert props.delivery_mode == 2
        assert body["_meta"]["exchange"] == NOTICES
        assert body["_meta"]["routing_key"] == "warning.alice"
        assert body["_meta"]["serializer"] == "json"
        p = body["payload"]
        assert p["event"] == "warning"
        assert p["queue"] == q and p["vhost"] == "/" and p["owner"] == "alice"
        assert p["messages"] == 6 and p["messages_ready"] == 6
        assert p["consumers"] == 0
        assert p["bindings"] == [{"exchange": x, "routing_key": "a.#"}]
        assert p["warn_queue_size"] == 5 and p["delete_queue_size"] == 10
        assert p["unbounded"] is False

        # Drained to 3: back to normal, once.
        for _ in range(3):
            m, _, _ = ch.basic_get(q)
            ch.basic_ack(m.delivery_tag)
        _, _, body = notices.wait("back_to_normal.alice", q)
        assert body["payload"]["messages"] == 3

        # A stuck consumer (prefetch 1, never acks) and 10 more messages: 13 > 10, deleted.
        stuck = broker.connect()
        sch = stuck.channel()
        sch.basic_qos(prefetch_count=1)
        cancelled = []
        sch.add_on_cancel_callback(lambda frame: cancelled.append(frame))
        sch.basic_consume(q, lambda *a: None)
        publish(ch, 10, x, "a.b")
        _, _, body = notices.wait("deleted.alice", q)
        p = body["payload"]
        assert p["event"] == "deleted"
        assert p["messages"] == 13
        assert p["messages_unacknowledged"] == 1
        assert p["consumers"] == 1
        assert p["bindings"] == [{"exchange": x, "routing_key": "a.#"}]
        deadline = time.time() + 5
        while not cancelled and time.time() < deadline:
            stuck.process_data_events(0.1)
        assert cancelled, "the deleted queue's consumer got no basic.cancel"
        assert not exists(broker, q)
        assert notices.keys_for(q) == ["warning.alice", "back_to_normal.alice", "deleted.alice"]
        stuck.close()
        # One log line per notice.
        log = log_text(broker)
        assert "guardian: warning.alice: queue 'queue/alice/q1' in vhost '/': 6 messages" in log
        assert "guardian: deleted.alice: queue 'queue/alice/q1' in vhost '/': 13 messages" in log
    finally:
        ch.exchange_delete(x)
        pub.close()


def test_queue_outside_the_naming_scheme_has_owner_underscore(broker, notices):
    q = unique("legacy-")
    pub = broker.connect()
    ch = pub.channel()
    ch.queue_declare(q)
    try:
        publish(ch, 6, "", q)
        _, _, body = notices.wait("warning._", q)
        assert body["payload"]["owner"] is None
        assert body["payload"]["bindings"] == []  # the default exchange's is left out
        publish(ch, 5, "", q)
        notices.wait("deleted._", q)
        assert not exists(broker, q)
    finally:
        pub.close()


def test_unbounded_queue_and_owner_override_are_warned_not_deleted(broker, notices):
    pub = broker.connect()
    ch = pub.channel()
    unbounded, bobs = "queue/alice/unbounded", "queue/bob/big"
    ch.queue_declare(unbounded)
    ch.queue_declare(bobs)
    try:
        publish(ch, 15, "", unbounded)
        publish(ch, 15, "", bobs)  # over the global 10, under bob's 20
        _, _, body = notices.wait("warning.alice", unbounded)
        assert body["payload"]["unbounded"] is True
        _, _, body = notices.wait("warning.bob", bobs)
        assert body["payload"]["delete_queue_size"] == 20
        time.sleep(2.5)  # two more polls
        assert exists(broker, unbounded) and exists(broker, bobs)
        assert notices.keys_for(unbounded) == ["warning.alice"]
        assert notices.keys_for(bobs) == ["warning.bob"]
        publish(ch, 6, "", bobs)  # 21 > 20
        notices.wait("deleted.bob", bobs)
        assert not exists(broker, bobs)
    finally:
        ch.queue_delete(unbounded)
        pub.close()


def test_notices_api(broker, notices):
    """GET /api/pulse/guardian/notices: the kept notices, oldest first, after an id."""
    q = "queue/carol/api"
    pub = broker.connect()
    ch = pub.channel()
    ch.queue_declare(q)
    api = HttpApi(broker)
    try:
        publish(ch, 6, "", q)
        notices.wait("warning.carol", q)
        r = api.get("/api/pulse/guardian/notices")
        assert r.status == 200, r
        ids = [n["id"] for n in r.json]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        mine = [n for n in r.json if n["queue"] == q]
        assert len(mine) == 1
        n = mine[0]
        assert n["routing_key"] == "warning.carol" and n["event"] == "warning"
        assert n["owner"] == "carol" and n["messages"] == 6 and n["vhost"] == "/"
        after = api.get("/api/pulse/guardian/notices?after=%d" % n["id"])
        assert after.status == 200 and all(x["id"] > n["id"] for x in after.json)
        assert q not in [x["queue"] for x in after.json]
        one = api.get("/api/pulse/guardian/notices?limit=1")
        assert one.status == 200 and [x["id"] for x in one.json] == ids[:1]
        bad = api.get("/api/pulse/guardian/notices?after=x")
        assert bad.status == 400 and "after" in bad.json["reason"], bad
        # Every owner's queues are named there: monitoring users and administrators see all
        # (an owner sees its own users', test_pulse_api.py); a management user that is no
        # owner none (pulse/api: 403 access_refused).
        assert api.put("/api/users/gm-watcher", {"password": "watch-1", "tags": "management"}
                       ).status in (201, 204)
        r = api.as_user("gm-watcher", "watch-1").get("/api/pulse/guardian/notices")
        assert r.status == 403 and r.json["error"] == "access_refused", r
        assert api.put("/api/users/gm-watcher", {"password": "watch-1", "tags": "monitoring"}
                       ).status in (201, 204)
        r = api.as_user("gm-watcher", "watch-1").get("/api/pulse/guardian/notices")
        assert r.status == 200, r
    finally:
        api.delete("/api/users/gm-watcher")
        ch.queue_delete(q)
        pub.close()


def test_idle_queue_expiry():
    b = start({"pulse.guardian.enabled": True, "pulse.guardian.interval": 1,
               "pulse.guardian.idle_queue_expiry": 2})
    try:
        notices = Subscriber(b)
        c = b.connect()
        ch = c.channel()
        ch.queue_declare("queue/alice/idle")
        ch.queue_declare("queue/alice/busy")
        ch.basic_consume("queue/alice/busy", lambda *a: None)
        _, _, body = notices.wait("idle_deleted.alice", "queue/alice/idle")
        assert body["payload"]["idle_queue_expiry"] == 2
        assert body["payload"]["idle_seconds"] >= 2
        assert not exists(b, "queue/alice/idle")
        assert exists(b, "queue/alice/busy")
        assert notices.keys_for("queue/alice/busy") == []
        c.close()
        notices.close()
    finally:
        b.stop()


def test_an_interval_set_through_the_api_applies_at_once():
    # Configured hourly: only the API's new 1 s interval can warn within the wait below.
    b = start({"pulse.guardian.enabled": True, "pulse.guardian.interval": 3600,
               "pulse.guardian.warn_queue_size": 5, "pulse.guardian.delete_queue_size": 1000})
    try:
        notices = Subscriber(b)
        c = b.connect()
        ch = c.channel()
        ch.queue_declare("queue/alice/soon")
        publish(ch, 6, "", "queue/alice/soon")
        r = HttpApi(b).put("/api/pulse/guardian", {"interval": 1})
        assert r.status == 200 and r.json["settings"]["interval"] == 1, r
        notices.wait("warning.alice", "queue/alice/soon", timeout=8)
        c.close()
        notices.close()
    finally:
        b.stop()


def test_max_connection_age_closes_old_connections():
    b = start({"pulse.guardian.enabled": True, "pulse.guardian.interval": 1,
               "pulse.guardian.max_connection_age": 2})
    try:
        # Every connection gets closed here, the subscriber's too: notices go to a durable
        # queue, read afterwards.
        setup = b.connect()
        setup.channel().queue_declare("queue/guest/notices", durable=True)
        setup.channel().queue_bind("queue/guest/notices", NOTICES, "#")
        setup.close()
        old = b.connect()
        opened = time.time()
        deadline = opened + 8
        with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as e:
            while time.time() < deadline:
                old.process_data_events(0.2)
        assert e.value.reply_code == 320
        assert e.value.reply_text == (
            "CONNECTION_FORCED - Pulse guardian: connection older than max_connection_age (2 s)")
        assert time.time() - opened > 2
        reader = b.connect()
        ch = reader.channel()
        m, props, body = ch.basic_get("queue/guest/notices", auto_ack=True)
        assert m is not None and m.routing_key == "connection_closed.guest"
        p = json.loads(body)["payload"]
        assert p["event"] == "connection_closed" and p["user"] == "guest"
        assert p["owner"] == "guest" and p["max_connection_age"] == 2 and p["age_seconds"] >= 2
        assert p["peer"].startswith("127.0.0.1:")
        reader.close()
    finally:
        b.stop()


def test_guardian_is_off_unless_enabled():
    # The thresholds alone do not turn it on: a bare pulsed behaves like RabbitMQ.
    config = dict(GUARDIAN)
    del config["pulse.guardian.enabled"]
    b = start(config)
    try:
        c = b.connect()
        ch = c.channel()
        ch.queue_declare("queue/alice/q1")
        publish(ch, 11, "", "queue/alice/q1")
        time.sleep(2.5)
        assert ch.queue_declare("queue/alice/q1", passive=True).method.message_count == 11
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
            ch.exchange_declare(NOTICES, passive=True)
        assert e.value.reply_code == 404
        c.close()
        assert "guardian:" not in log_text(b)
        r = HttpApi(b).get("/api/pulse/guardian/notices")
        assert r.status == 503 and r.json["reason"] == "the guardian is not running", r
    finally:
        b.stop()


@pytest.mark.parametrize("line,error", [
    ("pulse.guardian.interval = ten",
     "pulsed.conf:2: invalid value 'ten' for key 'pulse.guardian.interval': expected a number "
     "of seconds"),
    ("pulse.guardian.poll_interval = 5",
     "pulsed.conf:2: unknown key 'pulse.guardian.poll_interval'"),
    ("pulse.guardian.owners.bob.max_size = 5",
     "pulsed.conf:2: unknown key 'pulse.guardian.owners.bob.max_size'"),
    ("pulse.guardian.delete_queue_size = 100",
     "pulsed.conf: pulse.guardian.warn_queue_size (2000) must be below delete_queue_size (100)"),
])
def test_bad_guardian_config_is_refused_at_start(tmp_path, line, error):
    conf = tmp_path / "pulsed.conf"
    conf.write_text("pulse.guardian.enabled = true\n" + line + "\n")
    rc, out = run_pulsed_until_exit(str(tmp_path / "data"), extra_args=["--config", str(conf)])
    assert rc == 2, out
    assert error in out, out


def test_pulsed_mails_notices_over_smtp(tmp_path):
    """pulse.smtp.* in pulsed: the guardian's warning reaches a real SMTP server (aiosmtpd) with
    PulseGuardian's subject, addressed to the owner (owner_domain) and the admins."""
    with Server() as smtp:
        b = start(dict(GUARDIAN, **{
            "pulse.smtp.host": "127.0.0.1",
            "pulse.smtp.port": smtp.port,
            "pulse.smtp.from": "pulse@guardian.example",
            "pulse.smtp.admins.1": "ops@example.org",
            "pulse.smtp.owner_domain": "users.example",
        }))
        try:
            q = "queue/alice/" + unique("mailed")
            c = b.connect()
            ch = c.channel()
            ch.queue_declare(q)
            publish(ch, 6, "", q)
            deadline = time.time() + 10
            while not smtp.handler.mails and time.time() < deadline:
                time.sleep(0.1)
            assert smtp.handler.mails, "no mail within 10 s"
            mail = smtp.handler.mails[0]
            assert mail["msg"]["Subject"] == 'Pulse warning: queue "%s" is overgrowing' % q
            assert mail["mail_from"] == "pulse@guardian.example"
            assert sorted(mail["rcpt_tos"]) == ["alice@users.example", "ops@example.org"]
            assert q in mail["msg"].get_content()

            # A Pulse user made through /api/pulse: its owner's own address, not owner_domain.
            api = HttpApi(b)
            assert api.put("/api/pulse/owners/carol%40example.org",
                           {"password": "ownerpw1"}).status == 201
            assert api.put("/api/pulse/users/carol1",
                           {"password": "userpw11", "owner": "carol@example.org"}).status == 201
            q2 = "queue/carol1/" + unique("mailed")
            ch.queue_declare(q2)
            publish(ch, 6, "", q2)
            deadline = time.time() + 10
            while len(smtp.handler.mails) < 2 and time.time() < deadline:
                time.sleep(0.1)
            mails = [m for m in smtp.handler.mails if q2 in str(m["msg"]["Subject"])]
            assert mails, "no mail for %s within 10 s" % q2
            assert sorted(mails[0]["rcpt_tos"]) == ["carol@example.org", "ops@example.org"]
            c.close()
        finally:
            b.stop()


@pytest.mark.parametrize("lines,error", [
    ("pulse.smtp.host = 127.0.0.1", "pulse.smtp.from"),
    ("pulse.smtp.hots = 127.0.0.1", "pulse.smtp.hots"),
    ("pulse.smtp.host = 127.0.0.1\npulse.smtp.from = no-at-sign", "pulse.smtp.from"),
])
def test_bad_smtp_settings_refuse_the_start(tmp_path, lines, error):
    conf = tmp_path / "pulsed.conf"
    conf.write_text("pulse.guardian.enabled = true\n" + lines + "\n")
    rc, out = run_pulsed_until_exit(str(tmp_path / "data"), extra_args=["--config", str(conf)])
    assert rc == 2, out
    assert error in out, out
