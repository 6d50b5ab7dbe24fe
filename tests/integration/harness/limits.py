"""What the limits tests (test_limits*.py) share: the `target`, `admin`, `vhost` and `user`
fixtures over the `pulse_target` fixture (pulsed and a private RabbitMQ node), the calls that set
limits, and RabbitMQ's exact refusal texts. A test file imports the four fixtures together
(`admin` and the others stand on `target`, which pytest looks up in the test's module)."""
import pika
import pytest
from pika import spec

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


def ok(reply, *statuses):
    assert reply.status in (statuses or (201, 204)), reply
    return reply


@pytest.fixture
def vhost(admin):
    names = []

    def make():
        v = unique("lim")
        ok(admin.put("/api/vhosts/" + q(v)))
        ok(admin.put("/api/permissions/%s/guest" % q(v),
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
        ok(admin.put("/api/users/" + q(u), {"password": PASSWORD, "tags": tags}))
        for v in vhosts:
            ok(admin.put("/api/permissions/%s/%s" % (q(v), q(u)),
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
