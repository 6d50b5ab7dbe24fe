"""queue.* class and queue arguments."""
import re
import time

import pika
import pytest

from harness.amqp_assert import channel_closed, sync
from harness.util import wait_for

GEN = re.compile(r"^amq\.gen-[A-Za-z0-9_\-]{22}$")


def count(ch, q):
    return ch.queue_declare(q, passive=True).method.message_count


def bodies(ch, q, n=100):
    out = []
    for _ in range(n):
        m, _p, b = ch.basic_get(q, auto_ack=True)
        if m is None:
            break
        out.append(b)
    return out


def test_server_named(ch):
    ok = ch.queue_declare("", exclusive=True).method
    assert GEN.match(ok.queue), ok.queue
    assert (ok.message_count, ok.consumer_count) == (0, 0)
    ok2 = ch.queue_declare("", exclusive=True).method
    assert ok2.queue != ok.queue


def test_declare_ok_counts(broker, ch, uname):
    q = uname("cnt")
    ch.queue_declare(q, auto_delete=False)
    ch.confirm_delivery()
    for i in range(3):
        ch.basic_publish("", q, b"%d" % i)
    c2 = broker.connect()
    try:
        c2.channel().basic_consume(q, lambda *a: None)
        c2.process_data_events(0.2)
        ok = ch.queue_declare(q).method
        assert (ok.queue, ok.consumer_count) == (q, 1)
        assert ok.message_count == 0 or ok.message_count <= 3  # consumer may already hold them
    finally:
        c2.close()
    ok = ch.queue_declare(q, passive=True).method
    assert (ok.message_count, ok.consumer_count) == (3, 0)  # unacked requeued on close
    ch.queue_delete(q)


def test_passive_missing(conn, uname):
    q = uname("noq")
    with channel_closed(404, "NOT_FOUND - no queue '%s' in vhost '/'" % q):
        conn.channel().queue_declare(q, passive=True)


def test_passive_ignores_other_flags(ch, uname):
    q = uname("p")
    ch.queue_declare(q, durable=False, auto_delete=True)
    ok = ch.queue_declare(q, passive=True, durable=True, arguments={"x-max-length": 3}).method
    assert ok.queue == q
    ch.queue_delete(q)


def test_amq_prefix_reserved(conn):
    with channel_closed(403, "ACCESS_REFUSED - queue name 'amq.myqueue' contains reserved prefix 'amq.*'"):
        conn.channel().queue_declare("amq.myqueue")


def test_durable_mismatch(conn, uname):
    ch = conn.channel()
    q = uname("d")
    ch.queue_declare(q, durable=True)
    with channel_closed(406, "PRECONDITION_FAILED - inequivalent arg 'durable' for queue '%s' in vhost '/': "
                             "received 'false' but current is 'true'" % q):
        ch.queue_declare(q, durable=False)
    conn.channel().queue_delete(q)


def test_auto_delete_mismatch(conn, uname):
    ch = conn.channel()
    q = uname("ad")
    ch.queue_declare(q)
    with channel_closed(406, "PRECONDITION_FAILED - inequivalent arg 'auto_delete' for queue '%s' in vhost '/': "
                             "received 'true' but current is 'false'" % q):
        ch.queue_declare(q, auto_delete=True)
    conn.channel().queue_delete(q)


def test_argument_mismatch(conn, uname):
    ch = conn.channel()
    q = uname("a")
    ch.queue_declare(q, arguments={"x-message-ttl": 1000})
    with channel_closed(406, "PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' for queue '%s' in vhost '/': "
                             "received '2000' but current is '1000'" % q):
        ch.queue_declare(q, arguments={"x-message-ttl": 2000})
    ch = conn.channel()
    with channel_closed(406, "PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' for queue '%s' in vhost '/': "
                             "received none but current is the value '1000' of type 'signedint'" % q):
        ch.queue_declare(q)
    conn.channel().queue_delete(q)


def test_unknown_x_argument_ignored_for_equivalence(ch, uname):
    q = uname("a")
    ch.queue_declare(q, arguments={"x-foo": "bar"})
    ch.queue_declare(q, arguments={"x-foo": "baz"})
    ch.queue_declare(q)
    ch.queue_delete(q)


@pytest.mark.parametrize("args,detail", [
    ({"x-message-ttl": -1}, "{value_negative,-1}"),
    ({"x-message-ttl": "1000"}, '"expected integer, got longstr"'),
    ({"x-expires": 0}, "{value_zero,0}"),
    ({"x-expires": -5}, "{value_negative,-5}"),
    ({"x-max-length": -1}, "{value_negative,-1}"),
    ({"x-max-length-bytes": -1}, "{value_negative,-1}"),
    ({"x-max-priority": -1}, "{value_negative,-1}"),
    ({"x-max-priority": 256}, "{max_value_exceeded,256}"),
    ({"x-overflow": "drop-tail"}, "invalid_overflow"),
    ({"x-dead-letter-routing-key": "rk"}, "routing_key_but_no_dlx_defined"),
    ({"x-single-active-consumer": "yes"}, "{unacceptable_type,longstr}"),
    ({"x-queue-type": "bogus"}, "\"unsupported queue type 'bogus'\""),
])
def test_invalid_argument_values(conn, uname, args, detail):
    q = uname("inv")
    name = list(args)[0]
    with channel_closed(406, "PRECONDITION_FAILED - invalid arg '%s' for queue '%s' in vhost '/': %s"
                        % (name, q, detail)):
        conn.channel().queue_declare(q, arguments=args)


def test_durable_queue_declare(ch, uname):
    q = uname("dur")
    ok = ch.queue_declare(q, durable=True).method
    assert ok.queue == q
    ch.queue_declare(q, durable=True, passive=True)
    ch.queue_delete(q)


def test_exclusive_locked_from_other_connection(broker, ch, uname):
    q = uname("ex")
    ch.queue_declare(q, exclusive=True)
    other = broker.connect()
    try:
        text = ("RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '%s' in vhost '/'. "
                "It could be originally declared on another connection or the exclusive property "
                "value does not match that of the original declaration." % q)
        for op in (lambda c: c.queue_declare(q, exclusive=True),
                   lambda c: c.queue_declare(q),
                   lambda c: c.queue_declare(q, passive=True),
                   lambda c: c.basic_consume(q, lambda *a: None),
                   lambda c: c.basic_get(q),
                   lambda c: c.queue_purge(q),
                   lambda c: c.queue_delete(q),
                   lambda c: c.queue_bind(q, "amq.fanout")):
            with channel_closed(405, text):
                op(other.channel())
    finally:
        other.close()


def test_exclusive_same_connection_other_channel(conn, uname):
    q = uname("ex")
    conn.channel().queue_declare(q, exclusive=True)
    conn.channel().queue_declare(q, exclusive=True)
    conn.channel().basic_get(q)


def test_exclusive_deleted_on_connection_close(broker, ch, uname):
    q = uname("ex")
    c2 = broker.connect()
    c2.channel().queue_declare(q, exclusive=True)
    c2.close()
    wait_for(lambda: _recheck(ch.connection, q), timeout=5, interval=0.05)


def test_auto_delete_after_last_consumer(broker, conn, uname):
    q = uname("ad")
    ch = conn.channel()
    ch.queue_declare(q, auto_delete=True)
    ch.queue_declare(q, passive=True)  # never consumed: still there
    t1 = ch.basic_consume(q, lambda *a: None)
    t2 = ch.basic_consume(q, lambda *a: None)
    ch.basic_cancel(t1)
    ch.queue_declare(q, passive=True)
    ch.basic_cancel(t2)
    with channel_closed(404, "NOT_FOUND - no queue '%s' in vhost '/'" % q):
        ch.queue_declare(q, passive=True)


def test_auto_delete_when_consumer_connection_closes(broker, ch, uname):
    q = uname("ad")
    ch.queue_declare(q, auto_delete=True)
    c2 = broker.connect()
    c2.channel().basic_consume(q, lambda *a: None)
    c2.close()
    wait_for(lambda: _recheck(ch.connection, q), timeout=5, interval=0.05)


def _recheck(conn, q):
    try:
        conn.channel().queue_declare(q, passive=True)
        return False
    except pika.exceptions.ChannelClosedByBroker:
        return True


def test_x_expires(ch, uname):
    q = uname("exp")
    ch.queue_declare(q, arguments={"x-expires": 300})
    # NB: any declare (even passive) counts as use and restarts the timer,
    # so don't poll with passive declares.
    time.sleep(0.15)
    ch.queue_declare(q, passive=True)
    time.sleep(0.2)
    ch.queue_declare(q, passive=True)  # 350 ms since declare, 200 since last use
    time.sleep(0.5)
    assert _recheck(ch.connection, q)


def test_x_expires_not_while_consumed(conn, uname):
    ch = conn.channel()
    q = uname("exp")
    ch.queue_declare(q, arguments={"x-expires": 200})
    tag = ch.basic_consume(q, lambda *a: None)
    conn.process_data_events(0.6)
    ch.queue_declare(q, passive=True)
    ch.basic_cancel(tag)
    time.sleep(0.5)
    assert _recheck(conn, q)


def test_x_message_ttl(ch, uname):
    q = uname("ttl")
    ch.queue_declare(q, exclusive=True, arguments={"x-message-ttl": 200})
    ch.confirm_delivery()
    ch.basic_publish("", q, b"a")
    assert count(ch, q) == 1
    time.sleep(0.35)
    assert bodies(ch, q) == []


def test_x_message_ttl_zero_expires_unless_consumer(conn, uname):
    ch = conn.channel()
    q = uname("ttl0")
    ch.queue_declare(q, exclusive=True, arguments={"x-message-ttl": 0})
    ch.confirm_delivery()
    ch.basic_publish("", q, b"dropped")
    assert bodies(ch, q) == []
    got = []
    ch.basic_consume(q, lambda c, m, p, b: got.append(b), auto_ack=True)
    ch.basic_publish("", q, b"delivered")
    wait_for(lambda: conn.process_data_events(0.05) or got, timeout=3)
    assert got == [b"delivered"]


def test_x_max_length_drop_head(ch, uname):
    q = uname("ml")
    ch.queue_declare(q, exclusive=True, arguments={"x-max-length": 2})
    ch.confirm_delivery()
    for b in (b"1", b"2", b"3", b"4"):
        ch.basic_publish("", q, b)  # all acked
    assert bodies(ch, q) == [b"3", b"4"]


def test_x_max_length_zero(ch, uname):
    q = uname("ml0")
    ch.queue_declare(q, exclusive=True, arguments={"x-max-length": 0})
    ch.confirm_delivery()
    ch.basic_publish("", q, b"1")
    assert bodies(ch, q) == []


def test_x_max_length_bytes(ch, uname):
    q = uname("mlb")
    ch.queue_declare(q, exclusive=True, arguments={"x-max-length-bytes": 10})
    ch.confirm_delivery()
    for b in (b"aaaa", b"bbbb", b"cccc"):
        ch.basic_publish("", q, b)
    assert bodies(ch, q) == [b"bbbb", b"cccc"]
    ch.basic_publish("", q, b"x" * 11)  # larger than the limit on its own
    assert bodies(ch, q) == []


def test_x_overflow_reject_publish_nacks(ch, uname):
    q = uname("rp")
    ch.queue_declare(q, exclusive=True, arguments={"x-max-length": 2, "x-overflow": "reject-publish"})
    ch.confirm_delivery()
    ch.basic_publish("", q, b"1")
    ch.basic_publish("", q, b"2")
    with pytest.raises(pika.exceptions.NackError):
        ch.basic_publish("", q, b"3")
    assert bodies(ch, q) == [b"1", b"2"]
    ch.basic_publish("", q, b"4")  # room again
    assert bodies(ch, q) == [b"4"]


def test_x_overflow_reject_publish_without_confirms_drops(ch, uname):
    q = uname("rp")
    ch.queue_declare(q, exclusive=True, arguments={"x-max-length": 1, "x-overflow": "reject-publish"})
    ch.basic_publish("", q, b"1")
    ch.basic_publish("", q, b"2")
    sync(ch)
    time.sleep(0.05)
    assert bodies(ch, q) == [b"1"]


def test_x_overflow_reject_publish_dlx(ch, uname):
    dlq = ch.queue_declare("", exclusive=True).method.queue
    q = uname("rpd")
    ch.queue_declare(q, exclusive=True, arguments={
        "x-max-length": 1, "x-overflow": "reject-publish-dlx",
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq})
    ch.confirm_delivery()
    ch.basic_publish("", q, b"1")
    with pytest.raises(pika.exceptions.NackError):
        ch.basic_publish("", q, b"2")
    wait_for(lambda: count(ch, dlq) == 1)
    m, p, b = ch.basic_get(dlq, auto_ack=True)
    assert b == b"2"
    d = p.headers["x-death"][0]
    assert d["reason"] == "maxlen" and d["queue"] == q


def test_x_overflow_reject_publish_plain_does_not_dead_letter(ch, uname):
    dlq = ch.queue_declare("", exclusive=True).method.queue
    q = uname("rp")
    ch.queue_declare(q, exclusive=True, arguments={
        "x-max-length": 1, "x-overflow": "reject-publish",
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq})
    ch.confirm_delivery()
    ch.basic_publish("", q, b"1")
    with pytest.raises(pika.exceptions.NackError):
        ch.basic_publish("", q, b"2")
    time.sleep(0.1)
    assert count(ch, dlq) == 0


def test_bind_unbind(ch, uname):
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, "amq.direct", q)
    ch.confirm_delivery()
    ch.basic_publish("amq.direct", q, b"1")
    ch.queue_unbind(q, "amq.direct", q)
    ch.queue_unbind(q, "amq.direct", q)  # missing binding: OK
    with pytest.raises(pika.exceptions.UnroutableError):
        ch.basic_publish("amq.direct", q, b"2", mandatory=True)
    assert bodies(ch, q) == [b"1"]


def test_bind_blank_queue_uses_last_declared_queue_and_its_name_as_key(ch):
    # queue.bind with an empty queue name uses the channel's last declared queue
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind("", "amq.direct", "")
    ch.confirm_delivery()
    ch.basic_publish("amq.direct", "", b"0")  # not bound with ""
    ch.basic_publish("amq.direct", q, b"1")
    assert bodies(ch, q) == [b"1"]


def test_bind_missing_queue_and_exchange(conn, uname):
    ch = conn.channel()
    q = uname("noq")
    with channel_closed(404, "NOT_FOUND - no queue '%s' in vhost '/'" % q):
        ch.queue_bind(q, "amq.direct")
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    x = uname("nox")
    with channel_closed(404, "NOT_FOUND - no exchange '%s' in vhost '/'" % x):
        ch.queue_bind(q, x)


def test_purge(ch, uname):
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.confirm_delivery()
    for i in range(5):
        ch.basic_publish("", q, b"m")
    assert ch.queue_purge(q).method.message_count == 5
    assert ch.queue_purge(q).method.message_count == 0
    assert count(ch, q) == 0


def test_purge_keeps_unacked(ch, uname):
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.confirm_delivery()
    ch.basic_publish("", q, b"a")
    ch.basic_publish("", q, b"b")
    m, _, _ = ch.basic_get(q)
    assert ch.queue_purge(q).method.message_count == 1
    ch.basic_reject(m.delivery_tag, requeue=True)
    assert bodies(ch, q) == [b"a"]


def test_purge_missing(conn, uname):
    q = uname("noq")
    with channel_closed(404, "NOT_FOUND - no queue '%s' in vhost '/'" % q):
        conn.channel().queue_purge(q)


def test_delete_returns_count(ch, uname):
    q = uname("del")
    ch.queue_declare(q)
    ch.confirm_delivery()
    ch.basic_publish("", q, b"1")
    ch.basic_publish("", q, b"2")
    assert ch.queue_delete(q).method.message_count == 2


def test_delete_missing_is_ok(ch, uname):
    assert ch.queue_delete(uname("never")).method.message_count == 0


def test_delete_if_unused(conn, uname):
    ch = conn.channel()
    q = uname("du")
    ch.queue_declare(q, auto_delete=False)
    tag = ch.basic_consume(q, lambda *a: None)
    with channel_closed(406, "PRECONDITION_FAILED - queue '%s' in vhost '/' in use" % q):
        ch.queue_delete(q, if_unused=True)
    # the consumer went away with the channel
    ch = conn.channel()
    ch.queue_delete(q, if_unused=True)


def test_delete_if_empty(conn, uname):
    ch = conn.channel()
    q = uname("de")
    ch.queue_declare(q)
    ch.confirm_delivery()
    ch.basic_publish("", q, b"1")
    with channel_closed(406, "PRECONDITION_FAILED - queue '%s' in vhost '/' not empty" % q):
        ch.queue_delete(q, if_empty=True)
    ch = conn.channel()
    ch.queue_purge(q)
    ch.queue_delete(q, if_empty=True)


def test_x_max_priority_declare(ch, uname):
    q = uname("pri")
    ch.queue_declare(q, exclusive=True, arguments={"x-max-priority": 10})
    ch.queue_declare(q, exclusive=True, arguments={"x-max-priority": 10})


def test_queue_type_classic_explicit(ch, uname):
    q = uname("cl")
    ch.queue_declare(q, exclusive=True, arguments={"x-queue-type": "classic"})
    ch.queue_declare(q, exclusive=True)  # equivalent to classic


def test_quorum_queue_basic(conn, uname):
    ch = conn.channel()
    q = uname("qq")
    ch.queue_declare(q, durable=True, arguments={"x-queue-type": "quorum"})
    ch.confirm_delivery()
    ch.basic_publish("", q, b"1")
    ch.basic_publish("", q, b"2")
    assert count(ch, q) == 2
    m, p, b = ch.basic_get(q)
    assert b == b"1"
    ch.basic_nack(m.delivery_tag, requeue=True)
    # quorum queues (3.10) put a requeued message at the BACK of the queue
    m, p, b = ch.basic_get(q, auto_ack=True)
    assert b == b"2" and not m.redelivered
    m, p, b = ch.basic_get(q)
    assert b == b"1" and m.redelivered
    # quorum queues count deliveries in a header
    assert p.headers == {"x-delivery-count": 1}
    ch.basic_ack(m.delivery_tag)
    ch.queue_delete(q)


def test_quorum_delivery_limit(conn, uname):
    ch = conn.channel()
    q = uname("qq")
    dlq = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_declare(q, durable=True, arguments={
        "x-queue-type": "quorum", "x-delivery-limit": 1,
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq})
    ch.confirm_delivery()
    ch.basic_publish("", q, b"poison")
    for _ in range(2):
        m, p, b = ch.basic_get(q)
        assert b == b"poison"
        ch.basic_nack(m.delivery_tag, requeue=True)
    assert count(ch, q) == 0
    wait_for(lambda: count(ch, dlq) == 1)
    m, p, b = ch.basic_get(dlq, auto_ack=True)
    d = p.headers["x-death"][0]
    assert d["reason"] == "delivery_limit" and d["queue"] == q
    ch.queue_delete(q)


@pytest.mark.parametrize("kw,prop", [
    ({"durable": False}, "non-durable"),
    ({"durable": True, "exclusive": True}, "exclusive-owner"),
    ({"durable": True, "auto_delete": True}, "auto-delete"),
])
def test_quorum_invalid_properties(conn, uname, kw, prop):
    q = uname("qq")
    with channel_closed(406, "PRECONDITION_FAILED - invalid property '%s' for queue '%s' in vhost '/'"
                        % (prop, q)):
        conn.channel().queue_declare(q, arguments={"x-queue-type": "quorum"}, **kw)


def test_quorum_vs_classic_mismatch(conn, uname):
    ch = conn.channel()
    q = uname("qq")
    ch.queue_declare(q, durable=True, arguments={"x-queue-type": "quorum"})
    with channel_closed(406, "PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue '%s' in vhost '/': "
                             "received none but current is the value 'quorum' of type 'longstr'" % q):
        ch.queue_declare(q, durable=True)
    conn.channel().queue_delete(q)
