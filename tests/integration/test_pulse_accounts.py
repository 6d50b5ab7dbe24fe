"""The account service (src/pulse/accounts) over the management-API backend, through its test
driver pulse-accounts-probe (state in a JSON file): the same assertions against pulsed and a
private RabbitMQ 3.10 node (the `pulse_target` fixture). Pulse users get exactly the reference's
permissions; a claimed namespace's credentials rotate while a real pika client stays connected;
an expired namespace loses its queues, exchanges, users and connections."""
import json
import re
import subprocess
import time
import uuid

import pika
import pytest
from pika.exceptions import ChannelClosedByBroker, ConnectionClosedByBroker

from harness.broker import HOST, built_tool
from harness.http_api import q
from harness.pulse_targets import VHOST

HOUR = 3600


@pytest.fixture(scope="module")
def binary():
    return built_tool("PULSE_ACCOUNTS_PROBE_BIN", "pulse-accounts-probe")


class Probe:
    def __init__(self, binary, target, state):
        self.cmd = [binary, "--url", "http://%s:%d" % (HOST, target.http_port),
                    "-u", "guest", "-p", "guest", "--state", str(state),
                    "--set", "pulse.accounts.vhosts=" + VHOST,
                    "--set", "pulse.accounts.connection_url=amqp://%s:%d" % (HOST, target.port)]

    def run(self, *args, now=None):
        cmd = list(self.cmd)
        if now is not None:
            cmd += ["--now", "%.3f" % now]
        p = subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True,
                           timeout=60)
        assert p.returncode in (0, 1), (args, p.returncode, p.stdout, p.stderr)
        return p.returncode == 0, json.loads(p.stdout)

    def ok(self, *args, now=None):
        ok, out = self.run(*args, now=now)
        assert ok, (args, out)
        return out

    def error(self, *args, now=None):
        ok, out = self.run(*args, now=now)
        assert not ok, (args, out)
        return out["error"], out["text"]


@pytest.fixture
def probe(binary, pulse_target, tmp_path):
    return Probe(binary, pulse_target, tmp_path / "accounts.json")


def uname(prefix):
    return prefix + uuid.uuid4().hex[:10]


def pulse_permissions(ns):
    n = re.escape(ns)
    own = "^(queue/%s/.*|exchange/%s/.*)" % (n, n)
    return {"configure": own, "write": own, "read": "^(queue/%s/.*|exchange/.*)" % n}


def permissions_of(api, user):
    r = api.get("/api/users/%s/permissions" % q(user))
    assert r.status == 200, r
    return sorted(({k: p[k] for k in ("user", "vhost", "configure", "write", "read")}
                   for p in r.json), key=lambda p: p["vhost"])


def connect(creds):
    params = pika.URLParameters(creds["connection_string"])
    params.connection_attempts = 1
    params.socket_timeout = 10
    return pika.BlockingConnection(params)


def round_trip(conn, exchange, queue, body):
    """Publishes `body` through `exchange` and gets it back from `queue` on `conn`."""
    ch = conn.channel()
    ch.basic_publish(exchange, "k", body)
    end = time.time() + 10
    while time.time() < end:
        _, _, got = ch.basic_get(queue, auto_ack=True)
        if got is not None:
            ch.close()
            return got
        conn.process_data_events(0.05)
    raise AssertionError("%r never arrived in %s" % (body, queue))


def test_pulse_user_gets_exactly_the_reference_permissions(probe, pulse_target):
    api = pulse_target.api()
    owner, other = uname("alice") + "@example.com", uname("bob") + "@example.com"
    user = uname("alice")
    probe.ok("create-owner", owner)
    probe.ok("create-owner", other)
    try:
        assert probe.ok("create-user", owner, user, "first-pass1") == \
            {"name": user, "owners": [owner]}
        assert permissions_of(api, user) == [dict(user=user, vhost=VHOST, **pulse_permissions(user))]
        assert api.get("/api/users/%s" % q(user)).json["tags"] in ([], "")

        c = pika.BlockingConnection(pulse_target.broker.pika_params(user, "first-pass1", VHOST))
        ch = c.channel()
        ch.queue_declare("queue/%s/q" % user)
        ch.exchange_declare("exchange/%s/x" % user, "topic", durable=True)
        ch.queue_bind("queue/%s/q" % user, "exchange/%s/x" % user, "#")
        ch.basic_publish("exchange/%s/x" % user, "k", b"kept")
        # The reference's permissions: not even the default exchange is writable.
        pch = c.channel()
        with pytest.raises(ChannelClosedByBroker) as e:
            pch.basic_publish("", "queue/%s/q" % user, b"no")
            pch.queue_declare("queue/%s/q" % user, passive=True)
        assert e.value.reply_code == 403
        with pytest.raises(ChannelClosedByBroker) as e:
            c.channel().queue_declare("queue/someone-else/q")
        assert e.value.reply_code == 403

        # Wrong names and passwords, taken names, someone else's user.
        assert probe.error("create-user", owner, "1" + user, "first-pass1")[0] == 400
        assert probe.error("create-user", owner, uname("x"), "nodigits")[0] == 400
        assert probe.error("create-user", owner, "guest", "first-pass1")[0] == 400
        assert probe.error("create-user", other, user, "first-pass1")[0] == 409
        assert probe.error("change-password", other, user, "other-pass2")[0] == 403
        assert probe.error("create-user", "nobody@example.com", uname("x"), "first-pass1")[0] == 404

        # A new password: the connected client stays, its queue and permissions stay.
        assert probe.ok("change-password", owner, user, "second-pass2") == {"ok": True}
        assert c.is_open
        c.process_data_events(0.2)
        assert c.is_open
        with pytest.raises(pika.exceptions.ProbableAuthenticationError):
            pika.BlockingConnection(pulse_target.broker.pika_params(user, "first-pass1", VHOST))
        c2 = pika.BlockingConnection(pulse_target.broker.pika_params(user, "second-pass2", VHOST))
        assert c2.channel().queue_declare("queue/%s/q" % user, passive=True) \
            .method.message_count == 1
        c2.close()
        assert permissions_of(api, user) == [dict(user=user, vhost=VHOST, **pulse_permissions(user))]
        [listed] = probe.ok("users-of", owner)
        assert listed["name"] == user
        assert {"vhost": VHOST, "name": "queue/%s/q" % user} in listed["queues"]
        assert probe.ok("users-of", other) == []

        assert probe.ok("delete-user", owner, user, "--delete-queues") == {"ok": True}
        assert api.get("/api/users/%s" % q(user)).status == 404
        assert api.get("/api/queues/%s/%s" % (q(VHOST), q("queue/%s/q" % user))).status == 404
        with pytest.raises(ConnectionClosedByBroker) as e:
            end = time.time() + 10
            while time.time() < end:
                c.process_data_events(0.1)
        assert e.value.reply_code == 320
    finally:
        api.delete("/api/users/%s" % q(user))
        api.delete("/api/queues/%s/%s" % (q(VHOST), q("queue/%s/q" % user)))
        api.delete("/api/exchanges/%s/%s" % (q(VHOST), q("exchange/%s/x" % user)))


def test_claim_rotate_expire_with_a_connected_client(probe, pulse_target):
    api = pulse_target.api()
    ns = uname("ns")
    exchange, queue = "exchange/%s/x" % ns, "queue/%s/q" % ns
    t0 = time.time()
    clients = []
    try:
        c1 = probe.ok("claim", ns, "--expires-in", 24 * HOUR, "--contact", "ops@example.com",
                      now=t0)
        assert c1["username"] == ns + "-1"
        assert c1["connection_string"].startswith("amqp://%s:" % c1["username"])
        assert c1["reclaim_at"] == pytest.approx(t0 + HOUR, abs=0.01)
        for u in (ns + "-1", ns + "-2"):
            assert permissions_of(api, u) == [dict(user=u, vhost=VHOST, **pulse_permissions(ns))]

        conn = connect(c1)
        clients.append(conn)
        ch = conn.channel()
        ch.exchange_declare(exchange, "topic", durable=True)
        ch.queue_declare(queue)
        ch.queue_bind(queue, exchange, "#")
        with pytest.raises(ChannelClosedByBroker) as e:
            conn.channel().exchange_declare("exchange/%s-1/x" % ns, "topic", durable=True)
        assert e.value.reply_code == 403
        assert round_trip(conn, exchange, queue, b"before") == b"before"

        # Not due yet.
        assert probe.ok("rotate", now=t0 + HOUR - 60)["done"] == []
        assert probe.ok("rotate", now=t0 + HOUR + 1) == {"done": [ns], "errors": []}
        c2 = probe.ok("claim", ns, "--expires-in", 24 * HOUR, now=t0 + HOUR + 2)
        assert c2["username"] == ns + "-2" and c2["password"] != c1["password"]
        assert round_trip(conn, exchange, queue, b"after one") == b"after one"
        conn2 = connect(c2)
        clients.append(conn2)
        assert round_trip(conn2, exchange, queue, b"second user") == b"second user"
        clients.append(connect(c1))  # the previous credentials still log in

        assert probe.ok("rotate", now=t0 + 2 * HOUR + 3) == {"done": [ns], "errors": []}
        c3 = probe.ok("claim", ns, "--expires-in", 24 * HOUR, now=t0 + 2 * HOUR + 4)
        assert c3["username"] == ns + "-1"
        assert c3["password"] not in (c1["password"], c2["password"])
        # The first client, logged in with the now-replaced password, is still connected.
        assert round_trip(conn, exchange, queue, b"after two") == b"after two"
        with pytest.raises(pika.exceptions.ProbableAuthenticationError):
            connect(c1)
        conn3 = connect(c3)
        clients.append(conn3)
        assert round_trip(conn3, exchange, queue, b"third") == b"third"
        clients.append(connect(c2))

        # Expiry: users, connections, queues and exchanges go.
        assert probe.ok("expire", now=t0 + 2 * HOUR + 5)["done"] == []
        assert probe.ok("expire", now=t0 + 30 * HOUR) == {"done": [ns], "errors": []}
        for u in (ns + "-1", ns + "-2"):
            assert api.get("/api/users/%s" % q(u)).status == 404
        assert api.get("/api/queues/%s/%s" % (q(VHOST), q(queue))).status == 404
        assert api.get("/api/exchanges/%s/%s" % (q(VHOST), q(exchange))).status == 404
        for c in clients:
            with pytest.raises(ConnectionClosedByBroker) as e:
                end = time.time() + 10
                while time.time() < end:
                    c.process_data_events(0.1)
            assert e.value.reply_code == 320
        with pytest.raises(pika.exceptions.ProbableAuthenticationError):
            connect(c3)
        assert probe.ok("claims") == []
    finally:
        for c in clients:
            if c.is_open:
                c.close()
        for u in (ns + "-1", ns + "-2"):
            api.delete("/api/users/%s" % q(u))
        api.delete("/api/queues/%s/%s" % (q(VHOST), q(queue)))
        api.delete("/api/exchanges/%s/%s" % (q(VHOST), q(exchange)))


def test_claim_refusals(probe, pulse_target):
    assert probe.error("claim", "--", "-bad")[0] == 400
    assert probe.error("claim", "pulse")[0] == 400  # reserved
    assert probe.error("claim", uname("ns"), "--expires-in", -5)[0] == 400
    # A broker user already has the name (alice, the Pulse tests' user).
    assert probe.error("claim", "alice")[0] == 409
