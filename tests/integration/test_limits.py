"""Vhost limits (max-connections, max-queues) and user limits (max-connections, max-channels)
enforced with RabbitMQ's exact replies, against pulsed and against a private RabbitMQ 3.10 node
with the management plugin (the `pulse_target` fixture). The management API's side is in
test_limits_api.py, definitions and restarts in test_limits_definitions.py.

RabbitMQ tracks connections asynchronously: a connection that just closed may still count for a
moment, so re-admission after a close is waited for, not expected at once."""
import pika
import pytest
from pika import spec

from harness.http_api import q
from harness.limits import (PASSWORD, assert_close, channel_text, close_all, connect,
                            eventually_connects, ok, open_reply, queue_text, user_conn_text,
                            user_limit, vhost_conn_text, vhost_limit)
from harness.limits import admin, target, user, vhost  # noqa: F401 (fixtures)
from harness.raw_amqp import RawConnection
from harness.util import wait_for


def test_vhost_max_connections(target, admin, vhost):
    v = vhost()
    ok(vhost_limit(admin, v, "max-connections", 2), 204)
    conns = [connect(target, v), connect(target, v)]
    try:
        assert_close(open_reply(target, v), 530, vhost_conn_text(v, "guest", 2), 10, 40)
        # Other vhosts are not concerned.
        connect(target, "/").close()
        # A freed slot is taken again.
        conns.pop().close()
        conns.append(eventually_connects(target, v))
        # Lowering the limit closes nobody; 0 refuses everyone, -1 is no limit.
        ok(vhost_limit(admin, v, "max-connections", 0), 204)
        assert all(c.is_open for c in conns)
        assert_close(open_reply(target, v), 530, vhost_conn_text(v, "guest", 0), 10, 40)
        ok(vhost_limit(admin, v, "max-connections", -1), 204)
        conns.append(connect(target, v))
        ok(vhost_limit(admin, v, "max-connections", 1), 204)
        assert_close(open_reply(target, v), 530, vhost_conn_text(v, "guest", 1), 10, 40)
        ok(admin.delete("/api/vhost-limits/%s/max-connections" % q(v)), 204)
        conns.append(connect(target, v))
    finally:
        close_all(conns)


def test_vhost_limit_comes_before_the_access_check(target, admin, vhost, user):
    v = vhost()
    stranger = user()  # no permission on v
    ok(vhost_limit(admin, v, "max-connections", 0), 204)
    assert_close(open_reply(target, v, stranger, PASSWORD), 530,
                 vhost_conn_text(v, stranger, 0), 10, 40)
    # A vhost that does not exist is refused first.
    ok(user_limit(admin, stranger, "max-connections", 0), 204)
    assert_close(open_reply(target, "no-such-" + v, stranger, PASSWORD), 530,
                 "NOT_ALLOWED - vhost no-such-%s not found" % v, 10, 40)
    # The vhost's limit is checked before the user's.
    assert_close(open_reply(target, v, stranger, PASSWORD), 530,
                 vhost_conn_text(v, stranger, 0), 10, 40)
    ok(admin.delete("/api/vhost-limits/%s/max-connections" % q(v)), 204)
    assert_close(open_reply(target, v, stranger, PASSWORD), 530,
                 user_conn_text(stranger, 0), 10, 40)


def test_user_max_connections(target, admin, vhost, user):
    v1, v2 = vhost(), vhost()
    u = user(vhosts=(v1, v2))
    ok(user_limit(admin, u, "max-connections", 2), 204)
    conns = [connect(target, v1, u, PASSWORD), connect(target, v2, u, PASSWORD)]
    try:
        # Counted across vhosts.
        assert_close(open_reply(target, v1, u, PASSWORD), 530, user_conn_text(u, 2), 10, 40)
        # Other users are not concerned.
        conns.append(connect(target, v1))
        conns.pop(0).close()
        conns.append(eventually_connects(target, v1, u, PASSWORD))
        ok(user_limit(admin, u, "max-connections", 0), 204)
        assert_close(open_reply(target, v1, u, PASSWORD), 530, user_conn_text(u, 0), 10, 40)
        ok(user_limit(admin, u, "max-connections", -1), 204)
        conns.append(connect(target, v1, u, PASSWORD))
        ok(user_limit(admin, u, "max-connections", 0), 204)
        ok(admin.delete("/api/user-limits/%s/max-connections" % q(u)), 204)
        conns.append(connect(target, v1, u, PASSWORD))
    finally:
        close_all(conns)


def test_user_max_channels(target, admin, vhost, user):
    v = vhost()
    u = user(vhosts=(v,))
    ok(user_limit(admin, u, "max-channels", 2), 204)
    a = connect(target, v, u, PASSWORD)
    b = connect(target, v, u, PASSWORD)
    try:
        a.channel()
        b.channel()  # counted across the user's connections
        with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as ei:
            a.channel()
        assert (ei.value.reply_code, ei.value.reply_text) == (530, channel_text(u, 2))
        assert b.is_open
        # a's channel went with it: b may open one more.
        wait_for(lambda: _try_channel(b), timeout=10, interval=0.2, msg="a channel")
        # Other users are not concerned.
        g = connect(target, v)
        for _ in range(3):
            g.channel()
        g.close()
    finally:
        close_all([a, b])
    # 0 refuses every channel: connection.close with no class or method, as RabbitMQ.
    ok(user_limit(admin, u, "max-channels", 0), 204)
    r = RawConnection(target.host, target.port)
    try:
        assert isinstance(r.handshake(user=u, password=PASSWORD, vhost=v).method,
                          spec.Connection.OpenOk)
        r.send_method(1, spec.Channel.Open())
        assert_close(r.recv_method().method, 530, channel_text(u, 0), 0, 0)
    finally:
        r.close()
    ok(user_limit(admin, u, "max-channels", -1), 204)
    c = connect(target, v, u, PASSWORD)
    c.channel()
    c.close()
    ok(user_limit(admin, u, "max-channels", 0), 204)
    ok(admin.delete("/api/user-limits/%s/max-channels" % q(u)), 204)
    c = connect(target, v, u, PASSWORD)
    c.channel()
    c.close()


def _try_channel(conn):
    try:
        conn.channel()
        return True
    except pika.exceptions.ConnectionClosedByBroker:
        raise
    except pika.exceptions.AMQPError:
        return False


def test_vhost_max_queues(target, admin, vhost):
    v = vhost()
    ok(vhost_limit(admin, v, "max-queues", 2), 204)
    c = connect(target, v)
    try:
        ch = c.channel()
        ch.queue_declare("q1")
        ch.queue_declare("q2", exclusive=True)  # exclusive queues count
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as ei:
            ch.queue_declare("q3")
        assert (ei.value.reply_code, ei.value.reply_text) == (
            406, "PRECONDITION_FAILED - " + queue_text("q3", v, 2))
        assert c.is_open  # a channel error
        ch = c.channel()
        ch.queue_declare("q1")  # redeclaring an existing queue is fine
        ch.queue_declare("q1", passive=True)
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as ei:
            ch.queue_declare("")
        text = ei.value.reply_text
        assert ei.value.reply_code == 406
        assert text.startswith("PRECONDITION_FAILED - cannot declare queue 'amq.gen-"), text
        assert text.endswith("': queue limit in vhost '%s' (2) is reached" % v), text
        # The limit is checked after the reserved-name check and before the arguments.
        ch = c.channel()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as ei:
            ch.queue_declare("amq.x")
        assert ei.value.reply_code == 403
        ch = c.channel()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as ei:
            ch.queue_declare("q4", arguments={"x-max-length": "abc"})
        assert ei.value.reply_text == "PRECONDITION_FAILED - " + queue_text("q4", v, 2)
        # The management API declares through the same check.
        r = admin.put("/api/queues/%s/q5" % q(v), {"durable": True})
        assert (r.status, r.json) == (400, {"error": "bad_request",
                                            "reason": queue_text("q5", v, 2)})
        ok(admin.put("/api/queues/%s/q1" % q(v), {"durable": False}), 204)
        ok(vhost_limit(admin, v, "max-queues", 0), 204)
        ch = c.channel()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as ei:
            ch.queue_declare("q6")
        assert ei.value.reply_text == "PRECONDITION_FAILED - " + queue_text("q6", v, 0)
        ok(vhost_limit(admin, v, "max-queues", -1), 204)
        ch = c.channel()
        ch.queue_declare("q7")
        ok(vhost_limit(admin, v, "max-queues", 3), 204)
        with pytest.raises(pika.exceptions.ChannelClosedByBroker):
            ch.queue_declare("q8")
        ok(admin.delete("/api/vhost-limits/%s/max-queues" % q(v)), 204)
        ch = c.channel()
        ch.queue_declare("q8")
    finally:
        close_all([c])
