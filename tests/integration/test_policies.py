"""Policies loaded from a RabbitMQ definitions file take effect on queues and exchanges that
clients declare: limits with overflow, TTL with dead lettering, queue expiry, dead-letter
exchange, precedence between arguments and policy, priority between policies, alternate
exchange by policy. pulsed boots with the file; RabbitMQ imports it (harness)."""
import pika
import pytest

from harness.basic_ops import get_all
from harness.util import wait_for

DLX = "pol.dlx"
AE_TARGET = "pol.ae-target"


def _policy(name, pattern, definition, priority=0, apply_to="queues"):
    return {"vhost": "/", "name": name, "pattern": pattern, "apply-to": apply_to,
            "definition": definition, "priority": priority}


def _exchange(name, type_="direct"):
    return {"name": name, "vhost": "/", "type": type_, "durable": True, "auto_delete": False,
            "internal": False, "arguments": {}}


# Every pattern starts with "^pol\." so nothing else in the shared RabbitMQ node is touched.
POLICY_DEFS = {
    "exchanges": [_exchange(DLX), _exchange(AE_TARGET)],
    "policies": [
        _policy("pol-maxlen", r"^pol\.maxlen\.", {"max-length": 2, "overflow": "reject-publish"}),
        _policy("pol-drop", r"^pol\.drop\.", {"max-length": 2, "dead-letter-exchange": DLX}),
        _policy("pol-ttl", r"^pol\.ttl\.", {"message-ttl": 200, "dead-letter-exchange": DLX}),
        _policy("pol-expires", r"^pol\.expires\.", {"expires": 400}),
        _policy("pol-dlx", r"^pol\.dlx-src\.", {"dead-letter-exchange": DLX}),
        _policy("pol-prec", r"^pol\.prec\.",
                {"max-length": 3, "overflow": "reject-publish", "dead-letter-exchange": DLX}),
        _policy("pol-prio-low", r"^pol\.prio\.", {"max-length": 1}, priority=1),
        _policy("pol-prio-high", r"^pol\.prio\.high\.", {"max-length": 3}, priority=5),
        _policy("pol-ae", r"^pol\.ae\.", {"alternate-exchange": AE_TARGET},
                apply_to="exchanges"),
        # Same pattern, but only for queues: exchanges named so get no alternate exchange.
        _policy("pol-ae-queues", r"^pol\.noae\.", {"alternate-exchange": AE_TARGET},
                apply_to="queues"),
    ],
}


@pytest.fixture(scope="module")
def pbroker(broker_with_definitions):
    return broker_with_definitions(POLICY_DEFS)


@pytest.fixture
def pch(pbroker):
    c = pbroker.connect()
    yield c.channel()
    try:
        if c.is_open:
            c.close()
    except Exception:  # noqa
        pass


def depth(ch, queue):
    return ch.queue_declare(queue, passive=True).method.message_count


def drain(ch, queue):
    return get_all(ch, queue)


def dead_queue(ch, key, uname):
    """A queue receiving what pol.dlx dead-letters with routing key `key`."""
    q = uname("pol.dead")
    ch.queue_declare(q, auto_delete=False)
    ch.queue_bind(q, DLX, key)
    return q


def publish_confirmed(ch, queue, bodies):
    """Publishes with confirms; returns the list of bodies the broker nacked."""
    nacked = []
    for b in bodies:
        try:
            ch.basic_publish("", queue, b)
        except pika.exceptions.NackError:
            nacked.append(b)
    return nacked


def x_death(props):
    return props.headers["x-death"][0]


def test_max_length_with_reject_publish(pch, uname):
    q = uname("pol.maxlen")
    pch.queue_declare(q)
    pch.confirm_delivery()
    assert publish_confirmed(pch, q, [b"a", b"b", b"c"]) == [b"c"]
    assert drain(pch, q) == [b"a", b"b"]


def test_max_length_drop_head_dead_letters_with_policy_dlx(pch, uname):
    q = uname("pol.drop")
    dead = dead_queue(pch, q, uname)
    pch.queue_declare(q)
    pch.confirm_delivery()
    assert publish_confirmed(pch, q, [b"a", b"b", b"c", b"d"]) == []
    assert drain(pch, q) == [b"c", b"d"]
    wait_for(lambda: depth(pch, dead) == 2, msg="two dead letters")
    method, props, body = pch.basic_get(dead, auto_ack=True)
    assert body == b"a"
    assert x_death(props)["reason"] == "maxlen"
    assert x_death(props)["queue"] == q


def test_message_ttl_with_dead_letter_exchange(pch, uname):
    q = uname("pol.ttl")
    dead = dead_queue(pch, q, uname)
    pch.queue_declare(q)
    pch.basic_publish("", q, b"short-lived")
    wait_for(lambda: depth(pch, dead) == 1, timeout=5, msg="expired message dead-lettered")
    assert depth(pch, q) == 0
    method, props, body = pch.basic_get(dead, auto_ack=True)
    assert body == b"short-lived"
    death = x_death(props)
    assert death["reason"] == "expired"
    assert death["queue"] == q
    assert props.headers["x-first-death-reason"] == "expired"


def test_expires_deletes_unused_queue(pbroker, pch, uname):
    q = uname("pol.expires")
    pch.queue_declare(q)
    assert depth(pch, q) == 0
    # A passive declare counts as use and restarts the countdown (in RabbitMQ too): poll more
    # slowly than the 400 ms expiry.

    def gone():
        c = pbroker.connect()
        try:
            c.channel().queue_declare(q, passive=True)
            return False
        except pika.exceptions.ChannelClosedByBroker as e:
            assert e.reply_code == 404
            return True
        finally:
            if c.is_open:
                c.close()
    wait_for(gone, timeout=5, interval=0.7, msg="queue expired by policy")


def test_dead_letter_exchange_from_policy_on_reject(pch, uname):
    q = uname("pol.dlx-src")
    dead = dead_queue(pch, q, uname)
    pch.queue_declare(q)
    pch.basic_publish("", q, b"refused")
    method, props, body = pch.basic_get(q, auto_ack=False)
    assert body == b"refused"
    pch.basic_reject(method.delivery_tag, requeue=False)
    wait_for(lambda: depth(pch, dead) == 1, msg="rejected message dead-lettered")
    method, props, body = pch.basic_get(dead, auto_ack=True)
    assert x_death(props)["reason"] == "rejected"


def test_argument_and_policy_precedence(pch, uname):
    # Policy: max-length 3, overflow reject-publish, DLX pol.dlx.
    # A smaller x-max-length wins, and the argument's overflow wins over the policy's.
    q = uname("pol.prec")
    dead = dead_queue(pch, q, uname)
    pch.queue_declare(q, arguments={"x-max-length": 2, "x-overflow": "drop-head"})
    pch.confirm_delivery()
    assert publish_confirmed(pch, q, [b"a", b"b", b"c", b"d"]) == []
    assert drain(pch, q) == [b"c", b"d"]
    # The policy's dead-letter exchange applies: the queue has none of its own.
    wait_for(lambda: depth(pch, dead) == 2, msg="dropped heads dead-lettered")
    # A larger x-max-length loses to the policy's 3; the policy's overflow applies.
    q2 = uname("pol.prec")
    pch.queue_declare(q2, arguments={"x-max-length": 10})
    assert publish_confirmed(pch, q2, [b"1", b"2", b"3", b"4"]) == [b"4"]
    assert depth(pch, q2) == 3


def test_argument_dead_letter_exchange_beats_policy(pch, uname):
    own = uname("pol.own-dlx")
    pch.exchange_declare(own, "fanout", auto_delete=True)
    caught = uname("pol.caught")
    pch.queue_declare(caught, exclusive=True)
    pch.queue_bind(caught, own, "")
    q = uname("pol.dlx-src")
    policy_dead = dead_queue(pch, q, uname)
    pch.queue_declare(q, arguments={"x-dead-letter-exchange": own})
    pch.basic_publish("", q, b"m")
    method, _props, _body = pch.basic_get(q, auto_ack=False)
    pch.basic_nack(method.delivery_tag, requeue=False)
    wait_for(lambda: depth(pch, caught) == 1, msg="dead-lettered to the argument's DLX")
    assert depth(pch, policy_dead) == 0


def test_highest_priority_policy_wins(pch, uname):
    high = uname("pol.prio.high")
    low = uname("pol.prio.low")
    pch.queue_declare(high)
    pch.queue_declare(low)
    pch.confirm_delivery()
    for q in (high, low):
        publish_confirmed(pch, q, [b"1", b"2", b"3", b"4"])
    assert drain(pch, high) == [b"2", b"3", b"4"]  # pol-prio-high: max-length 3
    assert drain(pch, low) == [b"4"]  # only pol-prio-low matches: max-length 1


def test_alternate_exchange_for_exchanges_only(pch, uname):
    key = uname("miss")
    catch = uname("pol.ae-catch")
    pch.queue_declare(catch, exclusive=True)
    pch.queue_bind(catch, AE_TARGET, key)
    x = uname("pol.ae")
    pch.exchange_declare(x, "direct", auto_delete=False)
    pch.basic_publish(x, key, b"unroutable")
    wait_for(lambda: depth(pch, catch) == 1, msg="routed through the alternate exchange")
    # A policy that applies to queues gives exchanges nothing.
    x2 = uname("pol.noae")
    pch.exchange_declare(x2, "direct", auto_delete=False)
    pch.confirm_delivery()
    with pytest.raises(pika.exceptions.UnroutableError):
        pch.basic_publish(x2, key, b"lost", mandatory=True)
    assert depth(pch, catch) == 1
    pch.exchange_delete(x)
    pch.exchange_delete(x2)
