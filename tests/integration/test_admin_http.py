"""BrokerAdmin over the management HTTP API (src/pulse/admin_http), through its test driver
pulse-admin-probe: the same assertions against pulsed and against a private RabbitMQ 3.10 node
(the `pulse_target` fixture), so the guardian's RabbitMQ backend and pulsed's API agree.

RabbitMQ refreshes queue and connection statistics every 5 s: listings are polled with a
deadline, never awaited with fixed sleeps."""
import json
import re
import subprocess
import time
import uuid

import pika
import pytest
from pika.exceptions import ChannelClosedByBroker, ConnectionClosedByBroker

from harness.broker import HOST, built_tool, free_port
from harness.http_api import conn_name, local_port, q
from harness.pulse_targets import PASSWORD, USER, VHOST

STATS_DEADLINE = 30  # s: RabbitMQ's stats interval is 5 s


@pytest.fixture(scope="module")
def binary():
    return built_tool("PULSE_ADMIN_PROBE_BIN", "pulse-admin-probe")


class Probe:
    def __init__(self, binary, port, user="guest", password="guest"):
        self.cmd = [binary, "--url", "http://%s:%d" % (HOST, port), "-u", user, "-p", password,
                    "--timeout", "5"]

    def run(self, *args):
        """(ok, result): the call's JSON result, or {"error": code, "text": ...}."""
        p = subprocess.run(self.cmd + [str(a) for a in args], capture_output=True, text=True,
                           timeout=60)
        assert p.returncode in (0, 1), (args, p.returncode, p.stdout, p.stderr)
        return p.returncode == 0, json.loads(p.stdout)

    def ok(self, *args):
        ok, out = self.run(*args)
        assert ok, (args, out)
        return out

    def error(self, *args):
        ok, out = self.run(*args)
        assert not ok, (args, out)
        assert set(out) == {"error", "text"} and out["text"], out
        return out["error"], out["text"]


@pytest.fixture
def target(pulse_target):
    return pulse_target


@pytest.fixture
def probe(binary, target):
    return Probe(binary, target.http_port)


def poll(fn, what, deadline=STATS_DEADLINE):
    """fn() until it returns a true value; the last value in the failure."""
    end = time.time() + deadline
    last = None
    while time.time() < end:
        last = fn()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError("timed out waiting for %s; last: %r" % (what, last))


def queue_named(probe, vhost, name):
    return [x for x in probe.ok("list-queues") if x["vhost"] == vhost and x["name"] == name]


def uname(prefix):
    return prefix + uuid.uuid4().hex[:10]


@pytest.fixture
def alice_queue(target):
    """queue/alice/<unique> bound to exchange/alice/<unique> with key 'a.#'; removed after."""
    name = uname("")
    queue, exchange = "queue/alice/q" + name, "exchange/alice/x" + name
    with target.channel() as ch:
        ch.exchange_declare(exchange, "topic", durable=True)
        ch.queue_declare(queue)
        ch.queue_bind(queue, exchange, "a.#")
    yield queue, exchange
    try:
        target.delete(exchanges=[exchange], queues=[queue])
    except Exception:
        pass


def test_list_queues_sizes_consumers_bindings(target, probe, alice_queue):
    queue, exchange = alice_queue
    with target.channel() as ch:
        for i in range(5):
            ch.basic_publish(exchange, "a.b", b"m%d" % i)

    def ready():
        qs = queue_named(probe, VHOST, queue)
        return qs if qs and qs[0]["messages"] == 5 else None
    [q] = poll(ready, "5 messages in %s" % queue)
    assert q["messages_ready"] == 5 and q["messages_unacknowledged"] == 0
    assert q["consumers"] == 0
    assert (q["durable"], q["auto_delete"], q["exclusive"]) == (False, False, False)
    # The default exchange's implicit binding is left out.
    assert q["bindings"] == [{"source": exchange, "routing_key": "a.#"}]
    assert q["idle_since"] is None or abs(q["idle_since"] / 1000 - time.time()) < 600

    # A consumer holding 2 unacknowledged messages.
    c = target.connect()
    try:
        ch = c.channel()
        ch.basic_qos(prefetch_count=2)
        ch.basic_consume(queue, lambda *a: None)
        c.process_data_events(0.2)

        def consumed():
            qs = queue_named(probe, VHOST, queue)
            return qs if qs and qs[0]["consumers"] == 1 and \
                qs[0]["messages_unacknowledged"] == 2 else None
        [q] = poll(consumed, "a consumer with 2 unacked on %s" % queue)
        assert (q["messages"], q["messages_ready"]) == (5, 3)
    finally:
        c.close()


def test_delete_queue_cancels_consumer(target, probe, alice_queue):
    queue, _ = alice_queue
    c = target.connect()
    try:
        ch = c.channel()
        cancelled = []
        ch.add_on_cancel_callback(lambda frame: cancelled.append(frame))
        ch.basic_consume(queue, lambda *a: None)
        assert probe.ok("delete-queue", VHOST, queue, "--reason", "over the limit") == {"ok": True}
        end = time.time() + 10
        while not cancelled and time.time() < end:
            c.process_data_events(0.1)
        assert cancelled, "no basic.cancel after the queue was deleted"
    finally:
        if c.is_open:
            c.close()
    with target.channel() as ch2:
        with pytest.raises(ChannelClosedByBroker) as e:
            ch2.queue_declare(queue, passive=True)
        assert e.value.reply_code == 404
    code, text = probe.error("delete-queue", VHOST, queue, "--reason", "again")
    assert code == 404, text
    assert all(q["name"] != queue for q in probe.ok("list-queues"))


def test_list_and_delete_exchanges(target, probe, alice_queue):
    queue, exchange = alice_queue
    mine = [x for x in probe.ok("list-exchanges") if x["vhost"] == VHOST]
    by_name = {x["name"]: x for x in mine}
    assert by_name[exchange] == {"vhost": VHOST, "name": exchange, "type": "topic",
                                 "durable": True, "auto_delete": False, "internal": False}
    # The default exchange and amq.* are listed, as both APIs list them.
    assert by_name[""]["type"] == "direct"
    assert by_name["amq.topic"]["type"] == "topic"

    assert probe.ok("delete-exchange", VHOST, exchange) == {"ok": True}
    assert all(x["name"] != exchange for x in probe.ok("list-exchanges"))
    # Its bindings went with it; the queue stays.
    [qi] = queue_named(probe, VHOST, queue)
    assert qi["bindings"] == []
    with target.channel() as ch:
        with pytest.raises(ChannelClosedByBroker) as e:
            ch.exchange_declare(exchange, passive=True)
        assert e.value.reply_code == 404
    code, text = probe.error("delete-exchange", VHOST, exchange)
    assert code == 404, text
    code, text = probe.error("delete-exchange", "no-such-vhost-" + uname(""), exchange)
    assert code == 404, text
    # System exchanges are refused, the same way on both brokers.
    for system in ("amq.topic", ""):
        code, text = probe.error("delete-exchange", VHOST, system)
        assert code == 401, (system, text)
    assert any(x["name"] == "amq.topic" and x["vhost"] == VHOST
               for x in probe.ok("list-exchanges"))


def test_list_and_close_connection(target, probe):
    c = target.connect()
    try:
        name = conn_name(target.broker, c)

        def listed():
            return [x for x in probe.ok("list-connections") if x["name"] == name]
        [info] = poll(listed, "connection %s listed" % name)
        assert (info["user"], info["vhost"]) == (USER, VHOST)
        assert info["peer"] == "127.0.0.1:%d" % local_port(c)
        assert abs(info["connected_at"] / 1000 - time.time()) < 120, info

        reason = "guardian: connection too old"
        assert probe.ok("close-connection", name, "--reason", reason) == {"ok": True}
        with pytest.raises(ConnectionClosedByBroker) as e:
            end = time.time() + 10
            while time.time() < end:
                c.process_data_events(0.1)
        assert e.value.reply_code == 320
        assert e.value.reply_text == "CONNECTION_FORCED - " + reason
    finally:
        if c.is_open:
            c.close()
    poll(lambda: not [x for x in probe.ok("list-connections") if x["name"] == name],
         "connection %s gone" % name)
    code, text = probe.error("close-connection", name)
    assert code == 404, text


def pulse_permissions(user):
    u = re.escape(user)
    return {"configure": "^(queue/%s/.*|exchange/%s/.*)" % (u, u),
            "write": "^(queue/%s/.*|exchange/%s/.*)" % (u, u),
            "read": "^(queue/%s/.*|exchange/.*)" % u}


def test_users_and_permissions(target, probe):
    user = uname("adm")
    queue = "queue/%s/kept" % user
    broker = target.broker
    perms = pulse_permissions(user)
    try:
        assert probe.ok("put-user", user, "first-pass1") == {"ok": True}
        [u] = [x for x in probe.ok("list-users") if x["name"] == user]
        assert u["tags"] == []
        assert probe.ok("list-permissions", user) == []
        assert probe.ok("set-permissions", VHOST, user, perms["configure"], perms["write"],
                        perms["read"]) == {"ok": True}
        assert probe.ok("list-permissions", user) == [dict(vhost=VHOST, user=user, **perms)]

        c = pika.BlockingConnection(broker.pika_params(user, "first-pass1", VHOST))
        c.channel().queue_declare(queue, durable=True)
        c.close()

        # A new password (and tags): the permissions and the user's queue stay.
        assert probe.ok("put-user", user, "second-pass2", "--tag", "monitoring",
                        "--tag", "management") == {"ok": True}
        [u] = [x for x in probe.ok("list-users") if x["name"] == user]
        assert sorted(u["tags"]) == ["management", "monitoring"]
        assert probe.ok("list-permissions", user) == [dict(vhost=VHOST, user=user, **perms)]
        assert queue_named(probe, VHOST, queue)
        with pytest.raises(pika.exceptions.ProbableAuthenticationError):
            pika.BlockingConnection(broker.pika_params(user, "first-pass1", VHOST))
        c = pika.BlockingConnection(broker.pika_params(user, "second-pass2", VHOST))
        c.channel().queue_declare(queue, passive=True)
        c.close()

        assert probe.ok("delete-user", user) == {"ok": True}
        assert all(x["name"] != user for x in probe.ok("list-users"))
        code, text = probe.error("list-permissions", user)
        assert code == 404, text
        code, text = probe.error("delete-user", user)
        assert code == 404, text
        assert queue_named(probe, VHOST, queue), "the user's queue stays"
    finally:
        probe.run("delete-user", user)
        target.api().delete("/api/queues/%s/%s" % (q(VHOST), q(queue)))


def test_refusals_carry_the_reason(binary, target):
    # Wrong credentials: the broker's 401, not "unavailable".
    code, text = Probe(binary, target.http_port, USER, "wrong-password").error("list-users")
    assert code == 401, text
    # alice is no administrator.
    code, text = Probe(binary, target.http_port, USER, PASSWORD).error("list-users")
    assert code == 401, text


def test_unavailable(binary):
    code, text = Probe(binary, free_port()).error("list-queues")
    assert code == 503, text
    code, text = Probe(binary, free_port()).error("delete-queue", "/", "q")
    assert code == 503, text
