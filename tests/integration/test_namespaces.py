"""Pulse's namespaces: users with the reference's Pulse permissions (configure = write =
^(queue/u/.*|exchange/u/.*), read = ^(queue/u/.*|exchange/.*)) on pulsed and on a real RabbitMQ
node (the `pulse_target` fixture), with the same observable results; then pulsed's
`pulse.namespaces.strict`, which keeps those rules when someone loosened the regexes by hand
(pulsed only: RabbitMQ has no such mode).

The users are `alice.<tag>` and `bob.<tag>` on a vhost of their own, made for each test and
removed after it: the suite's fixture definitions already have an `alice` and a `bob` whose
permissions other tests rely on. The '.' in the names also checks the regexes are escaped."""
import contextlib
import uuid

import pytest

from harness.amqp_assert import channel_closed, sync
from harness.broker import PulsedBroker, run_pulsed_until_exit
from harness.http_api import HttpApi, q
from harness.util import wait_for

PASSWORD = "secret-pw1"


def pulse_permissions(user):
    u = user.replace(".", "\\.")
    own = "^(queue/%s/.*|exchange/%s/.*)" % (u, u)
    return {"configure": own, "write": own, "read": "^(queue/%s/.*|exchange/.*)" % u}


def loose_permissions():
    return {"configure": ".*", "write": ".*", "read": ".*"}


class Namespace:
    """A vhost with alice.<tag> and bob.<tag> on a broker, made through the management API."""

    def __init__(self, broker, alice_permissions=None):
        self.broker = broker
        self.api = HttpApi(broker)
        tag = uuid.uuid4().hex[:8]
        self.vhost = "ns-" + tag
        self.alice, self.bob = "alice." + tag, "bob." + tag
        self.alice_permissions = alice_permissions or pulse_permissions(self.alice)

    def __enter__(self):
        ok = (201, 204)
        assert self.api.put("/api/vhosts/" + q(self.vhost)).status in ok
        # guest, the administrator, acts on the vhost too.
        r = self.api.put("/api/permissions/%s/guest" % q(self.vhost), loose_permissions())
        assert r.status in ok, r
        for user, perms in ((self.alice, self.alice_permissions),
                            (self.bob, pulse_permissions(self.bob))):
            r = self.api.put("/api/users/" + q(user), {"password": PASSWORD, "tags": "management"})
            assert r.status in ok, r
            r = self.api.put("/api/permissions/%s/%s" % (q(self.vhost), q(user)), perms)
            assert r.status in ok, r
        return self

    def __exit__(self, *exc):
        for user in (self.alice, self.bob):
            self.api.delete("/api/users/" + q(user))
        self.api.delete("/api/vhosts/" + q(self.vhost))

    def connect(self, user):
        return self.broker.connect(user, "guest" if user == "guest" else PASSWORD, self.vhost)

    @contextlib.contextmanager
    def channel(self, user):
        c = self.connect(user)
        try:
            yield c.channel()
        finally:
            if c.is_open:
                c.close()

    def user_api(self, user):
        return self.api.as_user(user, PASSWORD)

    def refused(self, kind, name, user):
        """RabbitMQ's permission refusal text."""
        return "ACCESS_REFUSED - access to %s '%s' in vhost '%s' refused for user '%s'" % (
            kind, name, self.vhost, user)


def get_one(ch, queue, timeout=5.0):
    def got():
        method, _props, body = ch.basic_get(queue, auto_ack=True)
        return body if method is not None else None
    return wait_for(got, timeout=timeout, msg="a message on " + queue)


# ------------------------------------------------------------------ Pulse permissions

def test_pulse_permissions_keep_each_user_in_its_namespace(pulse_target):
    with Namespace(pulse_target.broker) as ns:
        alice, bob = ns.alice, ns.bob
        bx = "exchange/%s/x" % bob
        with ns.channel(bob) as ch:
            ch.exchange_declare(bx, "topic", durable=True)
        conn = ns.connect(alice)
        try:
            ch = conn.channel()
            # Reading any exchange through her own queue works.
            aq = "queue/%s/q" % alice
            ch.queue_declare(aq, durable=True)
            ch.exchange_declare(bx, passive=True)
            ch.queue_bind(aq, bx, "#")
            with ns.channel(bob) as bch:
                bch.basic_publish(bx, "build.finished", b"from bob")
                sync(bch)
            assert get_one(ch, aq) == b"from bob"
            # Writing to bob's exchange is refused, with RabbitMQ's text.
            ch.basic_publish(bx, "k", b"from alice")
            with channel_closed(403, ns.refused("exchange", bx, alice)):
                sync(ch)
            ch = conn.channel()
            with channel_closed(403, ns.refused("queue", "queue/%s/q" % bob, alice)):
                ch.queue_declare("queue/%s/q" % bob)
            ch = conn.channel()
            by = "exchange/%s/y" % bob
            with channel_closed(403, ns.refused("exchange", by, alice)):
                ch.exchange_declare(by, "topic", durable=True)
            ch = conn.channel()
            # Server-named queues are outside her namespace too.
            with channel_closed(403, startswith="ACCESS_REFUSED - access to queue 'amq.gen-"):
                ch.queue_declare("", exclusive=True)
            ch = conn.channel()
            with channel_closed(403, ns.refused("exchange", bx, alice)):
                ch.exchange_delete(bx)
        finally:
            if conn.is_open:
                conn.close()
        # The management API refuses the same, as RabbitMQ does: 401 "not_authorised".
        api = ns.user_api(alice)
        r = api.put("/api/queues/%s/%s" % (q(ns.vhost), q("queue/%s/q" % bob)), {"durable": True})
        assert (r.status, r.json["error"]) == (401, "not_authorised"), r
        r = api.put("/api/exchanges/%s/%s" % (q(ns.vhost), q("exchange/%s/y" % bob)),
                    {"type": "topic", "durable": True})
        assert (r.status, r.json["error"]) == (401, "not_authorised"), r
        r = api.put("/api/queues/%s/%s" % (q(ns.vhost), q("queue/%s/q2" % alice)),
                    {"durable": True})
        assert r.status == 201, r
        # Nothing of bob's was made or lost.
        names = {x["name"] for x in ns.api.get("/api/exchanges/" + q(ns.vhost)).json}
        assert bx in names and "exchange/%s/y" % bob not in names
        assert ns.api.get("/api/queues/%s/%s" % (q(ns.vhost), q("queue/%s/q" % bob))).status == 404


def test_loosened_permissions_without_strict_mode_are_rabbitmq_rules(pulse_target):
    """strict mode is off by default: a user given .* may do anything, on pulsed as on RabbitMQ."""
    with Namespace(pulse_target.broker, loose_permissions()) as ns:
        alice, bob = ns.alice, ns.bob
        with ns.channel(bob) as ch:
            ch.exchange_declare("exchange/%s/x" % bob, "topic", durable=True)
        with ns.channel(alice) as ch:
            ch.queue_declare("queue/%s/q" % bob)
            ch.exchange_declare("exchange/%s/fanout-one" % alice, "fanout")
            ch.exchange_delete("exchange/%s/x" % bob)
            ch.queue_declare("", exclusive=True)
        names = {x["name"] for x in ns.api.get("/api/exchanges/" + q(ns.vhost)).json}
        assert "exchange/%s/x" % bob not in names
        assert "exchange/%s/fanout-one" % alice in names


# ------------------------------------------------------------------------ strict mode

@pytest.fixture(scope="module")
def strict_pulsed():
    b = PulsedBroker(config={"pulse.namespaces.strict": True}).start()
    yield b
    b.stop()


def strict_text(user, verb, kind):
    prefix = "exchange/" if kind == "exchanges" else "queue/"
    return ("ACCESS_REFUSED - user '%s' may only %s %s under '%s%s/' (pulse.namespaces.strict)"
            % (user, verb, kind, prefix, user))


def shape_text(ns, name, durable, type_):
    return ("PRECONDITION_FAILED - exchange '%s' in vhost '%s' must be a durable topic exchange, "
            "not a %s %s one (pulse.namespaces.strict)"
            % (name, ns.vhost, "durable" if durable else "non-durable", type_))


@pytest.mark.pulsed_only  # RabbitMQ has no strict mode
def test_strict_mode_over_amqp(strict_pulsed):
    with Namespace(strict_pulsed, loose_permissions()) as ns:
        alice, bob = ns.alice, ns.bob
        bx, bq = "exchange/%s/x" % bob, "queue/%s/q" % bob
        with ns.channel(bob) as ch:
            ch.exchange_declare(bx, "topic", durable=True)
            ch.queue_declare(bq, durable=True)
        conn = ns.connect(alice)
        try:
            def refused(code, text, op):
                with channel_closed(code, text):
                    op(conn.channel())
            refused(403, strict_text(alice, "declare", "queues"),
                    lambda ch: ch.queue_declare("queue/%s/q2" % bob))
            refused(403, strict_text(alice, "declare", "queues"),
                    lambda ch: ch.queue_declare("", exclusive=True))
            refused(403, strict_text(alice, "declare", "exchanges"),
                    lambda ch: ch.exchange_declare("exchange/%s/y" % bob, "topic", durable=True))
            fan = "exchange/%s/fanout-one" % alice
            refused(406, shape_text(ns, fan, True, "fanout"),
                    lambda ch: ch.exchange_declare(fan, "fanout", durable=True))
            at = "exchange/%s/t" % alice
            refused(406, shape_text(ns, at, False, "topic"),
                    lambda ch: ch.exchange_declare(at, "topic"))
            refused(403, strict_text(alice, "delete", "queues"), lambda ch: ch.queue_delete(bq))
            refused(403, strict_text(alice, "delete", "exchanges"),
                    lambda ch: ch.exchange_delete(bx))
            refused(403, strict_text(alice, "bind to", "queues"),
                    lambda ch: ch.queue_bind(bq, "amq.topic", "#"))
            refused(403, strict_text(alice, "bind to", "exchanges"),
                    lambda ch: ch.exchange_bind(bx, "amq.topic", "#"))
            # Her own namespace, passive declares, binding her queue to bob's exchange and
            # publishing anywhere her (loosened) write permission allows all work.
            ch = conn.channel()
            ch.exchange_declare(at, "topic", durable=True)
            aq = "queue/%s/q" % alice
            ch.queue_declare(aq, durable=True)
            ch.exchange_declare(bx, passive=True)
            ch.queue_declare(bq, passive=True)
            ch.queue_bind(aq, bx, "#")
            ch.exchange_bind(at, bx, "#")
            ch.basic_publish(bx, "k", b"alice on bob's exchange")
            assert get_one(ch, aq) == b"alice on bob's exchange"
            ch.queue_delete(aq)
            ch.exchange_delete(at)
        finally:
            if conn.is_open:
                conn.close()
        names = {x["name"] for x in ns.api.get("/api/exchanges/" + q(ns.vhost)).json}
        assert bx in names
        assert not any(n.startswith("exchange/%s/" % bob) and n != bx for n in names)
        assert "exchange/%s/fanout-one" % alice not in names
        # An administrator (guest) is exempt.
        with ns.channel("guest") as ch:
            ch.exchange_declare("exchange/%s/guest-fanout" % bob, "fanout")
            ch.queue_declare("", exclusive=True)
            ch.queue_delete(bq)
            ch.exchange_delete(bx)


@pytest.mark.pulsed_only  # RabbitMQ has no strict mode
def test_strict_mode_over_the_management_api(strict_pulsed):
    with Namespace(strict_pulsed, loose_permissions()) as ns:
        alice, bob = ns.alice, ns.bob
        bx, bq = "exchange/%s/x" % bob, "queue/%s/q" % bob
        with ns.channel(bob) as ch:
            ch.exchange_declare(bx, "topic", durable=True)
            ch.queue_declare(bq, durable=True)
        api = ns.user_api(alice)
        v = q(ns.vhost)

        def forbidden(r, text):
            assert (r.status, r.json) == (403, {"error": "access_refused",
                                                "reason": text.split(" - ", 1)[1]}), r

        forbidden(api.put("/api/queues/%s/%s" % (v, q("queue/%s/q2" % bob)), {"durable": True}),
                  strict_text(alice, "declare", "queues"))
        forbidden(api.put("/api/exchanges/%s/%s" % (v, q("exchange/%s/y" % bob)),
                          {"type": "topic", "durable": True}),
                  strict_text(alice, "declare", "exchanges"))
        forbidden(api.delete("/api/queues/%s/%s" % (v, q(bq))),
                  strict_text(alice, "delete", "queues"))
        forbidden(api.delete("/api/exchanges/%s/%s" % (v, q(bx))),
                  strict_text(alice, "delete", "exchanges"))
        forbidden(api.post("/api/bindings/%s/e/amq.topic/q/%s" % (v, q(bq)), {"routing_key": "#"}),
                  strict_text(alice, "bind to", "queues"))
        fan = "exchange/%s/fanout-one" % alice
        r = api.put("/api/exchanges/%s/%s" % (v, q(fan)), {"type": "fanout", "durable": True})
        assert (r.status, r.json) == (400, {"error": "bad_request",
                                            "reason": shape_text(ns, fan, True, "fanout")
                                            .split(" - ", 1)[1]}), r
        at = "exchange/%s/t" % alice
        r = api.put("/api/exchanges/%s/%s" % (v, q(at)), {"type": "topic"})
        assert r.status == 400 and "not a non-durable topic one" in r.json["reason"], r
        assert api.put("/api/exchanges/%s/%s" % (v, q(at)),
                       {"type": "topic", "durable": True}).status == 201
        assert api.put("/api/queues/%s/%s" % (v, q("queue/%s/q" % alice)),
                       {"durable": True}).status == 201
        assert api.delete("/api/queues/%s/%s" % (v, q("queue/%s/q" % alice))).status == 204
        # An administrator is exempt here too.
        assert ns.api.delete("/api/queues/%s/%s" % (v, q(bq))).status == 204
        assert ns.api.put("/api/exchanges/%s/%s" % (v, q("exchange/%s/f" % bob)),
                          {"type": "fanout"}).status == 201


@pytest.mark.pulsed_only  # RabbitMQ has no strict mode
def test_strict_mode_bad_value_stops_the_start(tmp_path):
    for line, why in (("pulse.namespaces.strict = yes",
                       "invalid value 'yes' for key 'pulse.namespaces.strict': "
                       "expected true or false"),
                      ("pulse.namespaces.stric = true",
                       "unknown key 'pulse.namespaces.stric'")):
        conf = tmp_path / "pulsed.conf"
        conf.write_text(line + "\n")
        rc, out = run_pulsed_until_exit(str(tmp_path / "data"), extra_args=["--config", str(conf)])
        assert rc != 0, out
        assert "%s:1: %s" % (conf, why) in out, out


@pytest.mark.pulsed_only  # RabbitMQ has no strict mode
def test_strict_mode_leaves_publishing_to_permissions(strict_pulsed):
    """Strict mode governs declares, deletes and binds only: with the reference's permissions a
    publish to another's exchange is refused by the write permission, RabbitMQ's text."""
    with Namespace(strict_pulsed) as ns:
        bx = "exchange/%s/x" % ns.bob
        with ns.channel(ns.bob) as ch:
            ch.exchange_declare(bx, "topic", durable=True)
        with ns.channel(ns.alice) as ch:
            ch.basic_publish(bx, "k", b"x")
            with channel_closed(403, ns.refused("exchange", bx, ns.alice)):
                sync(ch)
