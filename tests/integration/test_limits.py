"""Vhost limits (max-connections, max-queues) and user limits (max-connections, max-channels):
the management API (/api/vhost-limits, /api/user-limits, /api/parameters), enforcement with
RabbitMQ's exact replies, definitions export and import. Every test runs against pulsed and
against a private RabbitMQ 3.10 node with the management plugin (the `pulse_target` fixture),
except the restart test, which is pulsed's own.

RabbitMQ tracks connections asynchronously: a connection that just closed may still count for a
moment, so re-admission after a close is waited for, not expected at once."""
import json
import time

import pika
import pytest
from pika import spec

from harness.broker import PulsedBroker
from harness.http_api import HttpApi, q
from harness.raw_amqp import RawConnection
from harness.util import unique, wait_for

PASSWORD = "limits-pw-1"


@pytest.fixture
def target(pulse_target):
    return pulse_target.broker


@pytest.fixture
def admin(target):
    return HttpApi(target)


def _ok(reply, *statuses):
    assert reply.status in (statuses or (201, 204)), reply
    return reply


@pytest.fixture
def vhost(admin):
    names = []

    def make():
        v = unique("lim")
        _ok(admin.put("/api/vhosts/" + q(v)))
        _ok(admin.put("/api/permissions/%s/guest" % q(v),
                      {"configure": ".*", "write": ".*", "read": ".*"}))
        names.append(v)
        return v
    yield make
    for v in names:
        admin.delete("/api/vhosts/" + q(v))


@pytest.fixture
def user(admin):
    names = []

    def make(vhosts=(), tags=""):
        u = unique("limuser")
        _ok(admin.put("/api/users/" + q(u), {"password": PASSWORD, "tags": tags}))
        for v in vhosts:
            _ok(admin.put("/api/permissions/%s/%s" % (q(v), q(u)),
                          {"configure": ".*", "write": ".*", "read": ".*"}))
        names.append(u)
        return u
    yield make
    for u in names:
        admin.delete("/api/users/" + q(u))


def vhost_limit(api, v, name, value):
    return api.put("/api/vhost-limits/%s/%s" % (q(v), name), {"value": value})


def user_limit(api, u, name, value):
    return api.put("/api/user-limits/%s/%s" % (q(u), name), {"value": value})


def open_reply(broker, vhost, user="guest", password="guest"):
    """The broker's answer to connection.open (pika's frame method), the socket closed after."""
    r = RawConnection(broker.host, broker.port)
    try:
        return r.handshake(user=user, password=password, vhost=vhost).method
    finally:
        r.close()


def assert_close(method, code, text, class_id, method_id):
    assert isinstance(method, spec.Connection.Close), method
    assert (method.reply_code, method.reply_text, method.class_id, method.method_id) == (
        code, text, class_id, method_id)


def connect(broker, vhost, user="guest", password="guest"):
    return broker.connect(user=user, password=password, vhost=vhost)


def eventually_connects(broker, vhost, user="guest", password="guest"):
    holder = []

    def attempt():
        try:
            holder.append(connect(broker, vhost, user, password))
            return True
        except pika.exceptions.AMQPError:
            return False
    wait_for(attempt, timeout=10, interval=0.2, msg="a connection to %s" % vhost)
    return holder[0]


def close_all(conns):
    for c in conns:
        try:
            if c.is_open:
                c.close()
        except Exception:  # noqa
            pass


def vhost_conn_text(v, user, n):
    return ("NOT_ALLOWED - access to vhost '%s' refused for user '%s': "
            "connection limit (%d) is reached" % (v, user, n))


def user_conn_text(u, n):
    return "NOT_ALLOWED - connection refused for user '%s': user connection limit (%d) is reached" % (
        u, n)


def channel_text(u, n):
    return ("NOT_ALLOWED - number of channels opened for user '%s' has reached the maximum "
            "allowed user limit of (%d)" % (u, n))


def queue_text(name, v, n):
    return "cannot declare queue '%s': queue limit in vhost '%s' (%d) is reached" % (name, v, n)


# -- enforcement -------------------------------------------------------------------------------

def test_vhost_max_connections(target, admin, vhost):
    v = vhost()
    _ok(vhost_limit(admin, v, "max-connections", 2), 204)
    conns = [connect(target, v), connect(target, v)]
    try:
        assert_close(open_reply(target, v), 530, vhost_conn_text(v, "guest", 2), 10, 40)
        # Other vhosts are not concerned.
        connect(target, "/").close()
        # A freed slot is taken again.
        conns.pop().close()
        conns.append(eventually_connects(target, v))
        # Lowering the limit closes nobody; 0 refuses everyone, -1 is no limit.
        _ok(vhost_limit(admin, v, "max-connections", 0), 204)
        assert all(c.is_open for c in conns)
        assert_close(open_reply(target, v), 530, vhost_conn_text(v, "guest", 0), 10, 40)
        _ok(vhost_limit(admin, v, "max-connections", -1), 204)
        conns.append(connect(target, v))
        _ok(vhost_limit(admin, v, "max-connections", 1), 204)
        assert_close(open_reply(target, v), 530, vhost_conn_text(v, "guest", 1), 10, 40)
        _ok(admin.delete("/api/vhost-limits/%s/max-connections" % q(v)), 204)
        conns.append(connect(target, v))
    finally:
        close_all(conns)


def test_vhost_limit_comes_before_the_access_check(target, admin, vhost, user):
    v = vhost()
    stranger = user()  # no permission on v
    _ok(vhost_limit(admin, v, "max-connections", 0), 204)
    assert_close(open_reply(target, v, stranger, PASSWORD), 530,
                 vhost_conn_text(v, stranger, 0), 10, 40)
    # A vhost that does not exist is refused first.
    _ok(user_limit(admin, stranger, "max-connections", 0), 204)
    assert_close(open_reply(target, "no-such-" + v, stranger, PASSWORD), 530,
                 "NOT_ALLOWED - vhost no-such-%s not found" % v, 10, 40)
    # The vhost's limit is checked before the user's.
    assert_close(open_reply(target, v, stranger, PASSWORD), 530,
                 vhost_conn_text(v, stranger, 0), 10, 40)
    _ok(admin.delete("/api/vhost-limits/%s/max-connections" % q(v)), 204)
    assert_close(open_reply(target, v, stranger, PASSWORD), 530,
                 user_conn_text(stranger, 0), 10, 40)


def test_user_max_connections(target, admin, vhost, user):
    v1, v2 = vhost(), vhost()
    u = user(vhosts=(v1, v2))
    _ok(user_limit(admin, u, "max-connections", 2), 204)
    conns = [connect(target, v1, u, PASSWORD), connect(target, v2, u, PASSWORD)]
    try:
        # Counted across vhosts.
        assert_close(open_reply(target, v1, u, PASSWORD), 530, user_conn_text(u, 2), 10, 40)
        # Other users are not concerned.
        conns.append(connect(target, v1))
        conns.pop(0).close()
        conns.append(eventually_connects(target, v1, u, PASSWORD))
        _ok(user_limit(admin, u, "max-connections", 0), 204)
        assert_close(open_reply(target, v1, u, PASSWORD), 530, user_conn_text(u, 0), 10, 40)
        _ok(user_limit(admin, u, "max-connections", -1), 204)
        conns.append(connect(target, v1, u, PASSWORD))
        _ok(user_limit(admin, u, "max-connections", 0), 204)
        _ok(admin.delete("/api/user-limits/%s/max-connections" % q(u)), 204)
        conns.append(connect(target, v1, u, PASSWORD))
    finally:
        close_all(conns)


def test_user_max_channels(target, admin, vhost, user):
    v = vhost()
    u = user(vhosts=(v,))
    _ok(user_limit(admin, u, "max-channels", 2), 204)
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
    _ok(user_limit(admin, u, "max-channels", 0), 204)
    r = RawConnection(target.host, target.port)
    try:
        assert isinstance(r.handshake(user=u, password=PASSWORD, vhost=v).method,
                          spec.Connection.OpenOk)
        r.send_method(1, spec.Channel.Open())
        assert_close(r.recv_method().method, 530, channel_text(u, 0), 0, 0)
    finally:
        r.close()
    _ok(user_limit(admin, u, "max-channels", -1), 204)
    c = connect(target, v, u, PASSWORD)
    c.channel()
    c.close()
    _ok(user_limit(admin, u, "max-channels", 0), 204)
    _ok(admin.delete("/api/user-limits/%s/max-channels" % q(u)), 204)
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
    _ok(vhost_limit(admin, v, "max-queues", 2), 204)
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
        _ok(admin.put("/api/queues/%s/q1" % q(v), {"durable": False}), 204)
        _ok(vhost_limit(admin, v, "max-queues", 0), 204)
        ch = c.channel()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as ei:
            ch.queue_declare("q6")
        assert ei.value.reply_text == "PRECONDITION_FAILED - " + queue_text("q6", v, 0)
        _ok(vhost_limit(admin, v, "max-queues", -1), 204)
        ch = c.channel()
        ch.queue_declare("q7")
        _ok(vhost_limit(admin, v, "max-queues", 3), 204)
        with pytest.raises(pika.exceptions.ChannelClosedByBroker):
            ch.queue_declare("q8")
        _ok(admin.delete("/api/vhost-limits/%s/max-queues" % q(v)), 204)
        ch = c.channel()
        ch.queue_declare("q8")
    finally:
        close_all([c])


# -- the management API ------------------------------------------------------------------------

def test_vhost_limits_listing(admin, vhost):
    v = vhost()
    assert admin.get("/api/vhost-limits/" + q(v)).json == []
    _ok(vhost_limit(admin, v, "max-connections", 10), 204)
    _ok(vhost_limit(admin, v, "max-queues", -1), 204)
    want = [{"vhost": v, "value": {"max-connections": 10, "max-queues": -1}}]
    assert admin.get("/api/vhost-limits/" + q(v)).json == want
    everything = admin.get("/api/vhost-limits").json
    assert [e for e in everything if e["vhost"] == v] == want
    # RabbitMQ keeps them as the vhost's "vhost-limits" runtime parameter named "limits".
    param = {"value": {"max-connections": 10, "max-queues": -1}, "vhost": v,
             "component": "vhost-limits", "name": "limits"}
    assert admin.get("/api/parameters/vhost-limits/%s/limits" % q(v)).json == param
    assert admin.get("/api/parameters/vhost-limits/" + q(v)).json == [param]
    assert param in admin.get("/api/parameters").json
    assert param in admin.get("/api/parameters/vhost-limits").json
    # A re-set replaces the value; deleting both leaves an empty parameter, listed as [].
    _ok(vhost_limit(admin, v, "max-queues", 5), 204)
    assert admin.get("/api/vhost-limits/" + q(v)).json == [
        {"vhost": v, "value": {"max-connections": 10, "max-queues": 5}}]
    _ok(admin.delete("/api/vhost-limits/%s/max-queues" % q(v)), 204)
    _ok(admin.delete("/api/vhost-limits/%s/max-queues" % q(v)), 204)  # already gone: fine
    _ok(admin.delete("/api/vhost-limits/%s/max-connections" % q(v)), 204)
    # (only the listing of all vhosts shows it).
    assert admin.get("/api/vhost-limits/" + q(v)).json == []
    assert {"vhost": v, "value": []} in admin.get("/api/vhost-limits").json
    assert admin.get("/api/parameters/vhost-limits/" + q(v)).json == [dict(param, value=[])]
    # Deleting the parameter removes the entry; a deleted vhost takes its limits.
    _ok(admin.delete("/api/parameters/vhost-limits/%s/limits" % q(v)), 204)
    assert admin.get("/api/vhost-limits/" + q(v)).json == []
    _ok(vhost_limit(admin, v, "max-queues", 1), 204)
    _ok(admin.delete("/api/vhosts/" + q(v)), 204)
    _ok(admin.put("/api/vhosts/" + q(v)), 201)
    assert admin.get("/api/vhost-limits/" + q(v)).json == []


def test_parameters_put_sets_vhost_limits(admin, vhost):
    v = vhost()
    path = "/api/parameters/vhost-limits/%s/limits" % q(v)
    _ok(admin.put(path, {"component": "vhost-limits", "vhost": v, "name": "limits",
                         "value": {"max-connections": 5}}))
    assert admin.get("/api/vhost-limits/" + q(v)).json == [
        {"vhost": v, "value": {"max-connections": 5}}]
    r = admin.put(path, {"value": {"max-connections": "x"}})
    assert (r.status, r.json) == (400, {
        "error": "bad_request",
        "reason": "Validation failed\n\nmax-connections should be a number, actually was "
                  "&lt;&lt;\"x\"&gt;&gt;\n"})
    r = admin.put(path, {"value": 5})
    assert (r.status, r.json["reason"]) == (400, "Validation failed\n\nlimits not a list 5\n")
    r = admin.put(path, {"value": {"max-queues": 1, "max-connections": "a", "zz": 1}})
    assert (r.status, r.json["reason"]) == (
        400, "Validation failed\n\nUnrecognised terms [{&lt;&lt;\"zz\"&gt;&gt;,1}] in limits\n"
             "max-connections should be a number, actually was &lt;&lt;\"a\"&gt;&gt;\n")
    r = admin.put("/api/parameters/no-such-component/%s/x" % q(v), {"value": {}})
    assert (r.status, r.json["reason"]) == (
        400, "Validation failed\n\ncomponent no-such-component not found\n")
    r = admin.put("/api/parameters/vhost-limits/no-such-vhost/limits", {"value": {}})
    assert (r.status, r.json) == (404, {"error": "not_found", "reason": "vhost_not_found"})
    _ok(admin.put(path, {"value": []}), 204)
    assert admin.get("/api/vhost-limits/" + q(v)).json == []
    assert {"vhost": v, "value": []} in admin.get("/api/vhost-limits").json
    assert admin.get("/api/parameters/vhost-limits/%s/nosuch" % q(v)).status == 404


def test_user_limits_listing(admin, user):
    u = user()
    assert admin.get("/api/user-limits/" + q(u)).json == []
    _ok(user_limit(admin, u, "max-connections", 2), 204)
    _ok(user_limit(admin, u, "max-channels", 3), 204)
    want = [{"user": u, "value": {"max-channels": 3, "max-connections": 2}}]
    assert admin.get("/api/user-limits/" + q(u)).json == want
    assert [e for e in admin.get("/api/user-limits").json if e["user"] == u] == want
    assert admin.get("/api/users/" + q(u)).json["limits"] == {"max-channels": 3,
                                                              "max-connections": 2}
    # A user PUT keeps them.
    _ok(admin.put("/api/users/" + q(u), {"password": "other", "tags": "management"}), 204)
    assert admin.get("/api/user-limits/" + q(u)).json == want
    _ok(admin.delete("/api/user-limits/%s/max-channels" % q(u)), 204)
    _ok(admin.delete("/api/user-limits/%s/max-channels" % q(u)), 204)
    _ok(admin.delete("/api/user-limits/%s/max-connections" % q(u)), 204)
    # A user without limits is not listed (no empty entry, unlike vhosts).
    assert admin.get("/api/user-limits/" + q(u)).json == []
    assert admin.get("/api/users/" + q(u)).json["limits"] == {}
    # A deleted user takes its limits.
    _ok(user_limit(admin, u, "max-channels", 1), 204)
    _ok(admin.delete("/api/users/" + q(u)), 204)
    _ok(admin.put("/api/users/" + q(u), {"password": PASSWORD, "tags": ""}), 201)
    assert admin.get("/api/user-limits/" + q(u)).json == []


def test_vhost_limit_http_errors(target, admin, vhost):
    v = vhost()
    path = "/api/vhost-limits/%s/max-queues" % q(v)
    bad = "Validation failed\n\nmax-queues should be a number, actually was %s\n"
    for value, term in [(1.5, "1.5"), (2.0, "2.0"), ("3", '<<"3">>'), (None, "null"),
                        (True, "true"), ([1], "[1]"), ({"a": 1}, '#{<<"a">> => 1}')]:
        r = admin.put(path, {"value": value})
        assert (r.status, r.json) == (400, {"error": "bad_request", "reason": bad % term}), value
    r = admin.put("/api/vhost-limits/%s/foo" % q(v), {"value": 3})
    assert (r.status, r.json["reason"]) == (
        400, "Validation failed\n\nUnrecognised terms [{<<\"foo\">>,3}] in limits\n")
    for body in ({}, {"val": 3}):
        r = admin.put(path, body)
        assert (r.status, r.json) == (400, {"error": "bad_request",
                                            "reason": "[{key_missing,value}]"})
    for raw in (b"nope", b"[1]"):
        r = admin.request("PUT", path, raw_body=raw, headers={"Content-Type": "application/json"})
        assert (r.status, r.json) == (400, {"error": "bad_request", "reason": "not_json"})
    r = admin.put("/api/vhost-limits/no-such-vhost/max-queues", {"value": 3})
    assert (r.status, r.json) == (404, {"error": "not_found", "reason": "vhost_not_found"})
    assert admin.get("/api/vhost-limits/no-such-vhost").status == 404
    assert admin.get("/api/vhost-limits/%s/max-queues/x" % q(v)).status == 404
    for method, p, allow in [("GET", path, "PUT, DELETE, OPTIONS"),
                             ("POST", path, "PUT, DELETE, OPTIONS"),
                             ("PUT", "/api/vhost-limits/" + q(v), "GET, OPTIONS"),
                             ("DELETE", "/api/vhost-limits", "GET, OPTIONS")]:
        r = admin.request(method, p, body={"value": 1} if method in ("PUT", "POST") else None)
        assert (r.status, r.headers.get("allow")) == (405, allow), (method, p)
    # Nothing of that was stored.
    assert admin.get("/api/vhost-limits/" + q(v)).json == []
    if target.target == "pulsed":
        # RabbitMQ 3.10.8 crashes (an empty 500) deleting a limit of a missing vhost.
        assert admin.delete("/api/vhost-limits/no-such-vhost/max-queues").status == 404


def test_user_limit_http_errors(target, admin, user):
    u = user()
    path = "/api/user-limits/%s/max-channels" % q(u)
    r = admin.put(path, {"value": "x"})
    assert (r.status, r.json) == (400, {
        "error": "bad_request", "reason": "max-channels should be a number, actually was <<\"x\">>"})
    r = admin.put("/api/user-limits/%s/max-queues" % q(u), {"value": 3})
    assert (r.status, r.json["reason"]) == (
        400, "Unrecognised terms [{<<\"max-queues\">>,3}] in user-limits")
    r = admin.put(path, {})
    assert (r.status, r.json["reason"]) == (400, "[{key_missing,value}]")
    r = admin.request("PUT", path, raw_body=b"nope", headers={"Content-Type": "application/json"})
    assert (r.status, r.json["reason"]) == (400, "not_json")
    r = admin.put("/api/user-limits/no-such-user/max-channels", {"value": 1})
    assert (r.status, r.json) == (400, {"error": "bad_request",
                                        "reason": ["no_such_user", "no-such-user"]})
    r = admin.put("/api/user-limits/no-such-user/max-channels", {"value": "x"})
    assert r.json["reason"] == "max-channels should be a number, actually was <<\"x\">>"
    assert admin.get("/api/user-limits/no-such-user").status == 404
    r = admin.get(path)
    assert (r.status, r.headers.get("allow")) == (405, "PUT, DELETE, OPTIONS")
    assert admin.get("/api/user-limits/" + q(u)).json == []
    if target.target == "pulsed":
        # RabbitMQ 3.10.8 crashes (an empty 500) deleting a limit of a missing user.
        assert admin.delete("/api/user-limits/no-such-user/max-channels").status == 404


def test_who_may_read_and_set(admin, vhost, user):
    v, other = vhost(), vhost()
    _ok(vhost_limit(admin, v, "max-queues", 7), 204)
    _ok(vhost_limit(admin, other, "max-queues", 8), 204)
    bob = user()
    _ok(user_limit(admin, bob, "max-channels", 9), 204)
    mon = user(vhosts=(v,), tags="monitoring")
    mgmt = user(vhosts=(v,), tags="management")
    pm = user(tags="policymaker")  # no vhost access
    plain = user(vhosts=(v,))
    mine = {"vhost": v, "value": {"max-queues": 7}}
    theirs = {"vhost": other, "value": {"max-queues": 8}}
    bobs = {"user": bob, "value": {"max-channels": 9}}
    for name in (mon, mgmt, pm, plain):
        api = admin.as_user(name, PASSWORD)
        if name == plain:
            for p in ("/api/vhost-limits", "/api/user-limits"):
                r = api.get(p)
                assert (r.status, r.json) == (401, {"error": "not_authorised",
                                                    "reason": "Not management user"})
            continue
        listed = api.get("/api/vhost-limits").json
        # Monitoring users see every vhost; others those they have a permission on.
        assert (mine in listed) == (name != pm), name
        assert (theirs in listed) == (name == mon), name
        r = api.get("/api/vhost-limits/" + q(other))
        if name == mon:
            assert r.json == [theirs]
        else:
            assert (r.status, r.json) == (401, {
                "error": "not_authorised", "reason": "User not authorised to access virtual host"})
        # Every management user reads every user's limits.
        assert bobs in api.get("/api/user-limits").json
        assert api.get("/api/user-limits/" + q(bob)).json == [bobs]
        for method, path in [("PUT", "/api/vhost-limits/%s/max-queues" % q(v)),
                             ("DELETE", "/api/vhost-limits/%s/max-queues" % q(v)),
                             ("PUT", "/api/vhost-limits/no-such-vhost/max-queues"),
                             ("PUT", "/api/user-limits/%s/max-channels" % q(bob)),
                             ("DELETE", "/api/user-limits/%s/max-channels" % q(bob))]:
            r = api.request(method, path, body={"value": 1} if method == "PUT" else None)
            assert (r.status, r.json) == (401, {"error": "not_authorised",
                                                "reason": "Not administrator user"}), (name, path)
    # /api/parameters: policymakers with access to the vhost only.
    r = admin.as_user(mgmt, PASSWORD).get("/api/parameters/vhost-limits/%s/limits" % q(v))
    assert (r.status, r.json["reason"]) == (401, "User not authorised to access object")
    assert admin.as_user(pm, PASSWORD).get("/api/parameters").json == []
    assert admin.get("/api/vhost-limits/" + q(v)).json == [mine]
    assert admin.get("/api/user-limits/" + q(bob)).json == [bobs]


# -- definitions -------------------------------------------------------------------------------

def _reason_text(reason):
    """RabbitMQ writes some import errors as [tag, [char codes]]."""
    if isinstance(reason, list) and len(reason) == 2 and isinstance(reason[1], list):
        return "".join(map(chr, reason[1]))
    return reason


def test_definitions_export_and_import(admin, vhost, user):
    v = vhost()
    u = user(vhosts=(v,))
    _ok(vhost_limit(admin, v, "max-connections", 4), 204)
    _ok(vhost_limit(admin, v, "max-queues", 6), 204)
    _ok(user_limit(admin, u, "max-connections", 2), 204)
    param = {"value": {"max-connections": 4, "max-queues": 6}, "vhost": v,
             "component": "vhost-limits", "name": "limits"}
    full = admin.get("/api/definitions").json
    assert param in full["parameters"]
    users = [x for x in full["users"] if x["name"] == u]
    assert len(users) == 1 and users[0]["limits"] == {"max-connections": 2}
    assert all("limits" in x for x in full["users"])
    # The one-vhost export keeps "vhost" in its parameters.
    assert admin.get("/api/definitions/" + q(v)).json["parameters"] == [param]

    # Round trip: what the export wrote puts the limits back.
    defs = {"vhosts": [{"name": v}], "users": users, "parameters": [param]}
    for p in ("max-connections", "max-queues"):
        _ok(admin.delete("/api/vhost-limits/%s/%s" % (q(v), p)), 204)
    _ok(admin.delete("/api/user-limits/%s/max-connections" % q(u)), 204)
    _ok(admin.post("/api/definitions", defs))
    assert admin.get("/api/vhost-limits/" + q(v)).json == [
        {"vhost": v, "value": {"max-connections": 4, "max-queues": 6}}]
    assert admin.get("/api/user-limits/" + q(u)).json == [
        {"user": u, "value": {"max-connections": 2}}]

    # An imported vhost-limits parameter replaces the vhost's limits; a user's limits are
    # merged into its own, and an empty or missing "limits" leaves them alone.
    users[0]["limits"] = {"max-channels": 1}
    _ok(admin.post("/api/definitions", {"users": users, "parameters": [
        dict(param, value={"max-queues": 1})]}))
    assert admin.get("/api/vhost-limits/" + q(v)).json == [
        {"vhost": v, "value": {"max-queues": 1}}]
    both = [{"user": u, "value": {"max-channels": 1, "max-connections": 2}}]
    assert admin.get("/api/user-limits/" + q(u)).json == both
    for limits in ({}, None):
        entry = dict(users[0])
        if limits is None:
            del entry["limits"]
        else:
            entry["limits"] = limits
        _ok(admin.post("/api/definitions", {"users": [entry]}))
        assert admin.get("/api/user-limits/" + q(u)).json == both

    # Invalid limits refuse the import.
    r = admin.post("/api/definitions", {"parameters": [dict(param, value={"max-queues": "x"})]})
    assert r.status == 400
    assert "max-queues should be a number, actually was &lt;&lt;\"x\"&gt;&gt;" in r.json["reason"]
    r = admin.post("/api/definitions", {"parameters": [dict(param, value={"max-queuez": 1})]})
    assert r.status == 400
    assert "Unrecognised terms [{&lt;&lt;\"max-queuez\"&gt;&gt;,1}] in limits" in r.json["reason"]
    assert admin.get("/api/vhost-limits/" + q(v)).json == [
        {"vhost": v, "value": {"max-queues": 1}}]

    # Queues past max-queues stop the import once its users and vhosts are in (RabbitMQ's
    # validate_limits), before permissions, parameters, policies, queues...
    _ok(vhost_limit(admin, v, "max-queues", 0), 204)
    r = admin.post("/api/definitions", {
        "vhosts": [{"name": v}],
        "users": [dict(users[0], limits={"max-channels": 5})],
        "queues": [{"name": "iq", "vhost": v, "durable": True, "auto_delete": False,
                    "arguments": {}}]})
    assert r.status == 400
    assert _reason_text(r.json["reason"]) == (
        "Adding 1 queue(s) to virtual host \"%s\" would exceed the limit of 0 queue(s).\n\n"
        "This virtual host currently has 0 queue(s) defined.\n\nImport aborted!" % v)
    assert admin.get("/api/queues/%s/iq" % q(v)).status == 404
    assert admin.get("/api/user-limits/" + q(u)).json == [
        {"user": u, "value": {"max-channels": 5, "max-connections": 2}}]


@pytest.mark.pulsed_only
def test_limits_survive_restart(tmp_path):
    b = PulsedBroker()
    b.start()
    try:
        api = HttpApi(b)
        for v in ("kept", "emptied", "gone"):
            _ok(api.put("/api/vhosts/" + v), 201)
        _ok(api.put("/api/users/limbob", {"password": PASSWORD, "tags": ""}), 201)
        _ok(api.put("/api/permissions/kept/limbob", {"configure": ".*", "write": ".*",
                                                  "read": ".*"}), 201)
        _ok(vhost_limit(api, "kept", "max-connections", 1), 204)
        _ok(vhost_limit(api, "kept", "max-queues", 3), 204)
        _ok(vhost_limit(api, "emptied", "max-queues", 3), 204)
        _ok(api.delete("/api/vhost-limits/emptied/max-queues"), 204)
        _ok(vhost_limit(api, "gone", "max-queues", 3), 204)
        _ok(api.delete("/api/vhosts/gone"), 204)
        _ok(user_limit(api, "limbob", "max-channels", 1), 204)
        _ok(user_limit(api, "limbob", "max-connections", 5), 204)
        _ok(user_limit(api, "guest", "max-channels", 4), 204)
        _ok(api.delete("/api/user-limits/guest/max-channels"), 204)
        before = (api.get("/api/vhost-limits").json, api.get("/api/user-limits").json)
        assert before == ([{"vhost": "emptied", "value": []},
                           {"vhost": "kept", "value": {"max-connections": 1, "max-queues": 3}}],
                          [{"user": "limbob", "value": {"max-channels": 1, "max-connections": 5}}])
        b.restart()
        api = HttpApi(b)
        assert (api.get("/api/vhost-limits").json, api.get("/api/user-limits").json) == before
        # ... and in force.
        c = b.connect(user="limbob", password=PASSWORD, vhost="kept")
        try:
            assert_close(open_reply(b, "kept"), 530, vhost_conn_text("kept", "guest", 1), 10, 40)
            c.channel()
            with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as ei:
                c.channel()
            assert ei.value.reply_text == channel_text("limbob", 1)
        finally:
            close_all([c])
        # A deleted user and a cleared parameter stay gone.
        _ok(api.delete("/api/users/limbob"), 204)
        _ok(api.delete("/api/parameters/vhost-limits/emptied/limits"), 204)
        b.restart()
        api = HttpApi(b)
        assert api.get("/api/vhost-limits").json == [
            {"vhost": "kept", "value": {"max-connections": 1, "max-queues": 3}}]
        assert api.get("/api/user-limits").json == []
        _ok(api.put("/api/users/limbob", {"password": PASSWORD, "tags": ""}), 201)
        assert api.get("/api/user-limits/limbob").json == []
    finally:
        b.stop()
