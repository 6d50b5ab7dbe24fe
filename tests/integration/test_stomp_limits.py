"""STOMP sessions under the vhost and user limits (max-connections, max-channels), against
pulsed and RabbitMQ 3.10 with rabbitmq_stomp. RabbitMQ counts a STOMP session as a connection
with one channel, toward the same limits as AMQP connections, and answers a CONNECT over a
connection limit as it answers a denied vhost (the session stays open), one over max-channels
with "Processing error" and a close."""
from harness.limits import (PASSWORD, channel_text, close_all, connect, ok, open_reply,
                            assert_close, user_conn_text, user_limit, vhost_conn_text,
                            vhost_limit)
from harness.limits import admin, target, user, vhost  # noqa: F401 (fixtures)
from harness.stomp_helpers import Raw
from harness.util import wait_for


def denied(v):
    return ("ERROR", [("message", "Bad CONNECT"), ("content-type", "text/plain"),
                      ("version", "1.0,1.1,1.2"),
                      ("content-length", str(len("Virtual host '%s' access denied" % v)))],
            b"Virtual host '%s' access denied" % v.encode())


def stomp_connect(target, v, u="guest", p="guest"):
    r = Raw(target.stomp_port)
    return r, r.connect(u, p, v)


def eventually_stomp_connects(target, v, u="guest", p="guest"):
    held = []

    def attempt():
        r, f = stomp_connect(target, v, u, p)
        if f[0] == "CONNECTED":
            held.append(r)
            return True
        r.close()
        return False
    wait_for(attempt, timeout=10, interval=0.2, msg="a STOMP session on %s" % v)
    return held[0]


def test_vhost_max_connections_counts_stomp_sessions(target, admin, vhost):
    v = vhost()
    ok(vhost_limit(admin, v, "max-connections", 1), 204)
    first, f = stomp_connect(target, v)
    socks = [first]
    try:
        assert f[0] == "CONNECTED"
        second, f = stomp_connect(target, v)
        socks.append(second)
        assert f == denied(v)
        # The refused session stays open, as after any failed CONNECT.
        assert not second.closed(timeout=0.5)
        # The STOMP session holds the vhost's one slot against AMQP too.
        assert_close(open_reply(target, v), 530, vhost_conn_text(v, "guest", 1), 10, 40)
        first.send(b"DISCONNECT\n\n\0")
        assert first.closed()
        socks.append(eventually_stomp_connects(target, v))
    finally:
        for r in socks:
            r.close()


def test_amqp_connections_count_against_stomp(target, admin, vhost):
    v = vhost()
    ok(vhost_limit(admin, v, "max-connections", 1), 204)
    conn = connect(target, v)
    try:
        r, f = stomp_connect(target, v)
        r.close()
        assert f == denied(v)
    finally:
        close_all([conn])
    eventually_stomp_connects(target, v).close()


def test_user_max_connections_counts_stomp_sessions(target, admin, vhost, user):
    v = vhost()
    u = user(vhosts=[v])
    ok(user_limit(admin, u, "max-connections", 1), 204)
    first, f = stomp_connect(target, v, u, PASSWORD)
    socks = [first]
    try:
        assert f[0] == "CONNECTED"
        second, f = stomp_connect(target, v, u, PASSWORD)
        socks.append(second)
        assert f == denied(v)
        assert_close(open_reply(target, v, u, PASSWORD), 530, user_conn_text(u, 1), 10, 40)
        # Other users are not concerned.
        other, f = stomp_connect(target, v)
        socks.append(other)
        assert f[0] == "CONNECTED"
        ok(user_limit(admin, u, "max-connections", -1), 204)
        third, f = stomp_connect(target, v, u, PASSWORD)
        socks.append(third)
        assert f[0] == "CONNECTED"
    finally:
        for r in socks:
            r.close()


def test_user_max_channels_counts_the_stomp_channel(target, admin, vhost, user):
    v = vhost()
    u = user(vhosts=[v])
    ok(user_limit(admin, u, "max-channels", 0), 204)
    r, f = stomp_connect(target, v, u, PASSWORD)
    try:
        assert f[0] == "ERROR" and dict(f[1])["message"] == "Processing error"
        assert f[2] == b"Processing error"
        assert r.closed()
    finally:
        r.close()
    ok(user_limit(admin, u, "max-channels", 1), 204)
    r = eventually_stomp_connects(target, v, u, PASSWORD)
    conn = connect(target, v, u, PASSWORD)
    try:
        # The STOMP session's channel is the user's one channel: AMQP's channel.open is refused.
        ch = None
        try:
            ch = conn.channel()
        except Exception as e:  # noqa: pika raises the connection's close
            assert channel_text(u, 1) in str(e), e
        assert ch is None
    finally:
        close_all([conn])
        r.close()
