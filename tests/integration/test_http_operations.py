"""The management API applies the same broker rules as AMQP (one broker operation per action):
the order of checks and RabbitMQ 3.10's answers where a declaration or publish over HTTP is
refused. Each case was compared with a 3.10.8 node."""
import pytest

from harness.http_api import q

V = q("/")
REFUSED = {"error": "not_authorised", "reason": "Access refused."}


@pytest.fixture
def limited(api, uname):
    """A management user who may only configure, write and read names under its own prefix."""
    user = uname("opu")
    prefix = user + "."
    assert api.put("/api/users/" + q(user),
                   {"password": "secret-1", "tags": "management"}).status in (201, 204)
    perm = "^" + prefix.replace(".", "\\.")
    assert api.put("/api/permissions/%s/%s" % (V, q(user)),
                   {"configure": perm, "write": perm, "read": perm}).status in (201, 204)
    yield api.as_user(user, "secret-1"), prefix
    api.delete("/api/users/" + q(user))


def test_exchange_type_is_checked_before_permission(limited, uname):
    as_user, prefix = limited
    for name in (uname("zz"), prefix + "x"):
        r = as_user.put("/api/exchanges/%s/%s" % (V, q(name)), {"type": "nope"})
        assert (r.status, r.json) == (
            400, {"error": "bad_request", "reason": "unknown exchange type 'nope'"})


def test_alternate_exchange_argument_must_be_a_string(api, uname):
    x = uname("aex")
    r = api.put("/api/exchanges/%s/%s" % (V, x),
                {"type": "direct", "arguments": {"alternate-exchange": 5}})
    assert (r.status, r.json["reason"]) == (
        400, "invalid type 'long' for arg 'alternate-exchange' in exchange '%s' in vhost '/'" % x)


def test_reserved_queue_name_is_refused(api):
    r = api.put("/api/queues/%s/amq.q" % V, {})
    assert (r.status, r.json) == (401, REFUSED)


def test_new_queue_needs_write_on_its_dead_letter_exchange(limited, api):
    as_user, prefix = limited
    qn = prefix + "q"
    r = as_user.put("/api/queues/%s/%s" % (V, q(qn)),
                    {"arguments": {"x-dead-letter-exchange": "other"}})
    assert (r.status, r.json) == (401, REFUSED)
    assert api.get("/api/queues/%s/%s" % (V, q(qn))).status == 404
    r = as_user.put("/api/queues/%s/%s" % (V, q(qn)),
                    {"arguments": {"x-dead-letter-exchange": prefix + "dlx"}})
    assert r.status == 201
    assert api.delete("/api/queues/%s/%s" % (V, q(qn))).status == 204


@pytest.mark.parametrize("props,reason", [
    ({"expiration": "abc"}, "406 PRECONDITION_FAILED - invalid expiration 'abc': no_integer"),
    ({"reply_to": "amq.rabbitmq.reply-to"},
     "406 PRECONDITION_FAILED - fast reply consumer does not exist"),
])
def test_publish_is_checked_as_basic_publish(api, uname, props, reason):
    qn = uname("pq")
    assert api.put("/api/queues/%s/%s" % (V, qn), {}).status == 201
    try:
        r = api.post("/api/exchanges/%s/amq.default/publish" % V,
                     {"routing_key": qn, "payload": "x", "payload_encoding": "string",
                      "properties": props})
        assert (r.status, r.json) == (400, {"error": "bad_request", "reason": reason})
        got = api.post("/api/queues/%s/%s/get" % (V, qn),
                       {"count": 1, "ackmode": "ack_requeue_false", "encoding": "auto"})
        assert (got.status, got.json) == (200, [])  # nothing was enqueued
    finally:
        api.delete("/api/queues/%s/%s" % (V, qn))
