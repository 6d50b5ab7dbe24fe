"""exchange.* class and exchange routing semantics."""
import pika
import pytest

from harness.amqp_assert import channel_closed, connection_closed, sync

BUILTIN = {
    "amq.direct": "direct", "amq.fanout": "fanout", "amq.topic": "topic",
    "amq.headers": "headers", "amq.match": "headers",
}


def get_body(ch, q):
    m, _p, body = ch.basic_get(q, auto_ack=True)
    return body if m else None


@pytest.mark.parametrize("etype", ["direct", "fanout", "topic", "headers"])
def test_declare_each_type(conn, uname, etype):
    x = uname("x")
    ch = conn.channel()
    ch.exchange_declare(x, exchange_type=etype, auto_delete=False)
    ch.exchange_declare(x, exchange_type=etype, passive=True)
    ch.exchange_declare(x, exchange_type=etype)  # idempotent redeclare
    # The exchange exists with the declared type: a redeclare with another one names it.
    other = "fanout" if etype != "fanout" else "direct"
    with channel_closed(406, "PRECONDITION_FAILED - inequivalent arg 'type' for exchange '%s' in "
                        "vhost '/': received '%s' but current is '%s'" % (x, other, etype)):
        ch.exchange_declare(x, exchange_type=other)
    ch = conn.channel()
    ch.exchange_delete(x)
    with channel_closed(404, "NOT_FOUND - no exchange '%s' in vhost '/'" % x):
        ch.exchange_declare(x, passive=True)


def test_unknown_type_is_connection_error(conn, uname):
    x = uname("x")
    ch = conn.channel()
    with connection_closed(503, "COMMAND_INVALID - unknown exchange type 'bogus'"):
        ch.exchange_declare(x, exchange_type="bogus")


def test_passive_missing(ch, uname):
    x = uname("nox")
    with channel_closed(404, "NOT_FOUND - no exchange '%s' in vhost '/'" % x):
        ch.exchange_declare(x, passive=True)


def test_passive_missing_other_vhost(broker, uname):
    c = broker.connect(vhost="pulse-test")
    try:
        x = uname("nox")
        with channel_closed(404, "NOT_FOUND - no exchange '%s' in vhost 'pulse-test'" % x):
            c.channel().exchange_declare(x, passive=True)
    finally:
        c.close()


def test_passive_ignores_type_mismatch(ch, uname):
    x = uname("x")
    ch.exchange_declare(x, "fanout", auto_delete=True)
    ch.exchange_declare(x, "direct", passive=True)
    ch.exchange_delete(x)


def test_redeclare_different_type(conn, uname):
    ch = conn.channel()
    x = uname("x")
    ch.exchange_declare(x, "direct", auto_delete=True)
    with channel_closed(406, "PRECONDITION_FAILED - inequivalent arg 'type' for exchange '%s' in vhost '/': "
                             "received 'fanout' but current is 'direct'" % x):
        ch.exchange_declare(x, "fanout", auto_delete=True)
    conn.channel().exchange_delete(x)


def test_redeclare_different_durable(conn, uname):
    ch = conn.channel()
    x = uname("x")
    ch.exchange_declare(x, "direct", durable=False)
    with channel_closed(406, "PRECONDITION_FAILED - inequivalent arg 'durable' for exchange '%s' in vhost '/': "
                             "received 'true' but current is 'false'" % x):
        ch.exchange_declare(x, "direct", durable=True)
    conn.channel().exchange_delete(x)


def test_redeclare_different_auto_delete(conn, uname):
    ch = conn.channel()
    x = uname("x")
    ch.exchange_declare(x, "direct", auto_delete=False)
    with channel_closed(406, "PRECONDITION_FAILED - inequivalent arg 'auto_delete' for exchange '%s' in vhost '/': "
                             "received 'true' but current is 'false'" % x):
        ch.exchange_declare(x, "direct", auto_delete=True)
    conn.channel().exchange_delete(x)


def test_redeclare_different_internal(conn, uname):
    ch = conn.channel()
    x = uname("x")
    ch.exchange_declare(x, "direct")
    with channel_closed(406, "PRECONDITION_FAILED - inequivalent arg 'internal' for exchange '%s' in vhost '/': "
                             "received 'true' but current is 'false'" % x):
        ch.exchange_declare(x, "direct", internal=True)
    conn.channel().exchange_delete(x)


def test_redeclare_different_alternate_exchange(conn, uname):
    ch = conn.channel()
    x = uname("x")
    ch.exchange_declare(x, "direct", arguments={"alternate-exchange": "ae1"})
    with channel_closed(406, "PRECONDITION_FAILED - inequivalent arg 'alternate-exchange' for exchange '%s' "
                             "in vhost '/': received 'ae2' but current is 'ae1'" % x):
        ch.exchange_declare(x, "direct", arguments={"alternate-exchange": "ae2"})
    conn.channel().exchange_delete(x)


@pytest.mark.parametrize("name", ["amq.foo", "amq.direct.mine"])
def test_amq_prefix_reserved(conn, name):
    ch = conn.channel()
    with channel_closed(403, "ACCESS_REFUSED - exchange name '%s' contains reserved prefix 'amq.*'" % name):
        ch.exchange_declare(name, "direct")


def test_builtin_redeclare_allowed_and_passive(ch):
    for name, t in BUILTIN.items():
        ch.exchange_declare(name, passive=True)
        ch.exchange_declare(name, t, durable=True)


def test_builtin_redeclare_inequivalent(conn):
    ch = conn.channel()
    with channel_closed(406, "PRECONDITION_FAILED - inequivalent arg 'durable' for exchange 'amq.direct' in "
                             "vhost '/': received 'false' but current is 'true'"):
        ch.exchange_declare("amq.direct", "direct", durable=False)


def test_default_exchange_cannot_be_declared_nondefault(conn):
    ch = conn.channel()
    with channel_closed(403, "ACCESS_REFUSED - operation not permitted on the default exchange"):
        ch.exchange_declare("", "fanout")


def test_default_exchange_delete_refused(conn):
    ch = conn.channel()
    with channel_closed(403, "ACCESS_REFUSED - operation not permitted on the default exchange"):
        ch.exchange_delete("")


def test_delete_builtin_refused(conn):
    ch = conn.channel()
    with channel_closed(403, "ACCESS_REFUSED - deletion of system exchange 'amq.direct' in vhost '/' not allowed"):
        ch.exchange_delete("amq.direct")


def test_bind_queue_to_default_exchange_refused(conn, uname):
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    with channel_closed(403, "ACCESS_REFUSED - operation not permitted on the default exchange"):
        ch.queue_bind(q, "", routing_key="x")


def test_default_exchange_routes_by_queue_name(ch):
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.confirm_delivery()
    ch.basic_publish("", q, b"direct")
    assert get_body(ch, q) == b"direct"


def test_delete_missing_exchange_is_ok(ch, uname):
    ch.exchange_delete(uname("never"))  # idempotent since RabbitMQ 3.2


def test_delete_if_unused(conn, uname):
    ch = conn.channel()
    x = uname("x")
    ch.exchange_declare(x, "fanout")
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x)
    with channel_closed(406, "PRECONDITION_FAILED - exchange '%s' in vhost '/' in use" % x):
        ch.exchange_delete(x, if_unused=True)
    ch = conn.channel()
    ch.queue_unbind(q, x)
    ch.exchange_delete(x, if_unused=True)
    with channel_closed(404):
        ch.exchange_declare(x, passive=True)


def test_delete_if_unused_counts_e2e_source(conn, uname):
    ch = conn.channel()
    src, dst = uname("src"), uname("dst")
    ch.exchange_declare(src, "fanout")
    ch.exchange_declare(dst, "fanout")
    ch.exchange_bind(dst, src)
    with channel_closed(406, "PRECONDITION_FAILED - exchange '%s' in vhost '/' in use" % src):
        ch.exchange_delete(src, if_unused=True)
    ch = conn.channel()
    ch.exchange_delete(dst, if_unused=True)  # being a destination does not count
    ch.exchange_delete(src)


def test_delete_removes_bindings(ch, uname):
    x = uname("x")
    ch.exchange_declare(x, "fanout")
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x)
    ch.exchange_delete(x)
    ch.exchange_declare(x, "fanout")
    ch.confirm_delivery()
    ch.basic_publish(x, "", b"m")
    assert get_body(ch, q) is None
    ch.exchange_delete(x)


def test_publish_to_missing_exchange(conn, uname):
    ch = conn.channel()
    x = uname("nox")
    with channel_closed(404, "NOT_FOUND - no exchange '%s' in vhost '/'" % x):
        ch.basic_publish(x, "rk", b"m")
        sync(ch)


def test_internal_exchange_cannot_be_published_to(conn, uname):
    ch = conn.channel()
    x = uname("ix")
    ch.exchange_declare(x, "fanout", internal=True)
    with channel_closed(403, "ACCESS_REFUSED - cannot publish to internal exchange '%s' in vhost '/'" % x):
        ch.basic_publish(x, "", b"m")
        sync(ch)
    conn.channel().exchange_delete(x)


def test_internal_exchange_routes_via_e2e(ch, uname):
    src, ix = uname("src"), uname("ix")
    ch.exchange_declare(src, "fanout")
    ch.exchange_declare(ix, "fanout", internal=True)
    ch.exchange_bind(ix, src)
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, ix)
    ch.confirm_delivery()
    ch.basic_publish(src, "", b"via-internal")
    assert get_body(ch, q) == b"via-internal"
    ch.exchange_delete(src)
    ch.exchange_delete(ix)


def test_direct_routing(ch, uname):
    x = uname("x")
    ch.exchange_declare(x, "direct")
    q1 = ch.queue_declare("", exclusive=True).method.queue
    q2 = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q1, x, "a")
    ch.queue_bind(q2, x, "b")
    ch.queue_bind(q2, x, "a")
    ch.confirm_delivery()
    ch.basic_publish(x, "a", b"A")
    ch.basic_publish(x, "b", b"B")
    assert get_body(ch, q1) == b"A" and get_body(ch, q1) is None
    assert get_body(ch, q2) == b"A" and get_body(ch, q2) == b"B"
    ch.exchange_delete(x)


def test_double_bind_delivers_once(ch, uname):
    x = uname("x")
    ch.exchange_declare(x, "topic")
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x, "a.*")
    ch.queue_bind(q, x, "*.b")
    ch.queue_bind(q, x, "a.*")
    ch.confirm_delivery()
    ch.basic_publish(x, "a.b", b"once")
    assert get_body(ch, q) == b"once"
    assert get_body(ch, q) is None
    ch.exchange_delete(x)


@pytest.mark.parametrize("pattern,key,match", [
    ("a.b.c", "a.b.c", True), ("a.*.c", "a.b.c", True), ("a.*.c", "a.b.b.c", False),
    ("a.#", "a", True), ("a.#", "a.b.c", True), ("#", "", True), ("#", "x.y", True),
    ("*", "", False), ("*", "a", True), ("a.#.c", "a.c", True), ("a.#.c", "a.x.y.c", True),
    ("#.c", "c", True), ("a.*", "a", False), ("*.*", "a.b", True), ("a.b", "a.b.c", False),
    ("#.#", "a", True), ("a.#.#", "a", True), ("", "", True), ("", "a", False),
    ("*.#", "", False), ("a..b", "a..b", True), ("a.*.b", "a..b", True),
])
def test_topic_matching(ch, uname, pattern, key, match):
    x = uname("t")
    ch.exchange_declare(x, "topic", auto_delete=True)
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x, pattern)
    ch.confirm_delivery()
    ch.basic_publish(x, key, b"m")
    assert (get_body(ch, q) is not None) == match


def test_fanout_ignores_key(ch, uname):
    x = uname("f")
    ch.exchange_declare(x, "fanout", auto_delete=True)
    qs = [ch.queue_declare("", exclusive=True).method.queue for _ in range(3)]
    for i, q in enumerate(qs):
        ch.queue_bind(q, x, "k%d" % i)
    ch.confirm_delivery()
    ch.basic_publish(x, "anything", b"fan")
    assert [get_body(ch, q) for q in qs] == [b"fan"] * 3


@pytest.mark.parametrize("bind_args,headers,match", [
    ({"x-match": "all", "a": 1, "b": "2"}, {"a": 1, "b": "2", "c": 3}, True),
    ({"x-match": "all", "a": 1, "b": "2"}, {"a": 1}, False),
    ({"x-match": "any", "a": 1, "b": "2"}, {"b": "2"}, True),
    ({"x-match": "any", "a": 1, "b": "2"}, {"a": 2, "b": "3"}, False),
    ({"a": 1}, {"a": 1}, True),                      # default x-match=all
    ({"x-match": "all"}, {}, True),
    ({"x-match": "any"}, {"a": 1}, False),
    ({"x-match": "all", "a": 1}, None, False),
    ({"x-match": "all", "x-foo": "bar"}, {}, True),  # x- keys ignored in matching
])
def test_headers_matching(ch, uname, bind_args, headers, match):
    x = uname("h")
    ch.exchange_declare(x, "headers", auto_delete=True)
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x, "", arguments=bind_args)
    ch.confirm_delivery()
    ch.basic_publish(x, "ignored", b"h", pika.BasicProperties(headers=headers))
    assert (get_body(ch, q) is not None) == match


def test_headers_invalid_x_match(conn, uname):
    ch = conn.channel()
    x = uname("h")
    ch.exchange_declare(x, "headers", auto_delete=True)
    q = ch.queue_declare("", exclusive=True).method.queue
    with channel_closed(406, "PRECONDITION_FAILED - Invalid x-match field value <<\"some\">>; "
                             "expected all, any, all-with-x, or any-with-x"):
        ch.queue_bind(q, x, "", arguments={"x-match": "some"})


def test_e2e_bind_unbind_routing(ch, uname):
    src, dst = uname("src"), uname("dst")
    ch.exchange_declare(src, "topic")
    ch.exchange_declare(dst, "direct")
    ch.exchange_bind(dst, src, "k.*")
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, dst, "k.1")
    ch.confirm_delivery()
    ch.basic_publish(src, "k.1", b"1")
    ch.basic_publish(src, "k.2", b"2")  # reaches dst but no binding there
    assert get_body(ch, q) == b"1" and get_body(ch, q) is None
    ch.exchange_unbind(dst, src, "k.*")
    ch.basic_publish(src, "k.1", b"3")
    assert get_body(ch, q) is None
    ch.exchange_unbind(dst, src, "k.*")  # unbinding a missing binding is OK
    ch.exchange_delete(src)
    ch.exchange_delete(dst)


def test_e2e_cycle_delivers_once(ch, uname):
    a, b = uname("a"), uname("b")
    ch.exchange_declare(a, "fanout")
    ch.exchange_declare(b, "fanout")
    ch.exchange_bind(b, a)
    ch.exchange_bind(a, b)
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, a)
    ch.queue_bind(q, b)
    ch.confirm_delivery()
    ch.basic_publish(a, "", b"loop")
    assert get_body(ch, q) == b"loop"
    assert get_body(ch, q) is None
    ch.exchange_delete(a)
    ch.exchange_delete(b)


def test_e2e_bind_missing_source(conn, uname):
    ch = conn.channel()
    dst, src = uname("dst"), uname("nosrc")
    ch.exchange_declare(dst, "fanout", auto_delete=True)
    with channel_closed(404, "NOT_FOUND - no exchange '%s' in vhost '/'" % src):
        ch.exchange_bind(dst, src)


def test_e2e_bind_missing_both(conn, uname):
    ch = conn.channel()
    dst, src = uname("nodst"), uname("nosrc")
    # only the source is reported
    with channel_closed(404, "NOT_FOUND - no exchange '%s' in vhost '/'" % src):
        ch.exchange_bind(dst, src)


def test_auto_delete_exchange_deleted_when_last_binding_removed(ch, uname):
    x = uname("ad")
    ch.exchange_declare(x, "fanout", auto_delete=True)
    # no bindings yet: it still exists
    ch.exchange_declare(x, passive=True)
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x)
    ch.queue_unbind(q, x)
    with channel_closed(404, "NOT_FOUND - no exchange '%s' in vhost '/'" % x):
        ch.exchange_declare(x, passive=True)


def test_auto_delete_exchange_deleted_when_bound_queue_deleted(ch, uname):
    x = uname("ad")
    ch.exchange_declare(x, "fanout", auto_delete=True)
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x)
    ch.queue_delete(q)
    with channel_closed(404):
        ch.exchange_declare(x, passive=True)


def test_alternate_exchange(ch, uname):
    x, ae = uname("x"), uname("ae")
    ch.exchange_declare(ae, "fanout")
    ch.exchange_declare(x, "direct", arguments={"alternate-exchange": ae})
    qa = ch.queue_declare("", exclusive=True).method.queue
    qx = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(qa, ae)
    ch.queue_bind(qx, x, "hit")
    ch.confirm_delivery()
    ch.basic_publish(x, "hit", b"1")
    ch.basic_publish(x, "miss", b"2", mandatory=True)  # AE counts as routed: no return
    assert get_body(ch, qx) == b"1" and get_body(ch, qx) is None
    m, p, body = ch.basic_get(qa, auto_ack=True)
    assert body == b"2"
    assert m.exchange == x and m.routing_key == "miss"
    ch.exchange_delete(x)
    ch.exchange_delete(ae)


def test_alternate_exchange_missing_is_unroutable(ch, uname):
    x = uname("x")
    ch.exchange_declare(x, "direct", arguments={"alternate-exchange": uname("gone")})
    returned = []
    ch.add_on_return_callback(lambda *a: returned.append(a))
    ch.confirm_delivery()
    with pytest.raises(pika.exceptions.UnroutableError):
        ch.basic_publish(x, "miss", b"2", mandatory=True)
    ch.exchange_delete(x)
