"""Dead lettering and the x-death header."""
import datetime
import time

import pika

from harness.util import wait_for


def setup_dlx(ch, uname, **qargs):
    dlx = uname("dlx")
    ch.exchange_declare(dlx, "fanout", auto_delete=True)
    dlq = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(dlq, dlx)
    q = uname("src")
    args = {"x-dead-letter-exchange": dlx}
    args.update(qargs)
    ch.queue_declare(q, exclusive=True, arguments=args)
    return dlx, dlq, q


def get1(ch, q, timeout=3):
    return wait_for(lambda: (lambda r: r if r[0] else None)(ch.basic_get(q, auto_ack=True)), timeout=timeout)


def test_reject_dead_letters_with_x_death(ch, uname):
    dlx, dlq, q = setup_dlx(ch, uname)
    ch.confirm_delivery()
    ch.basic_publish("", q, b"r", pika.BasicProperties(headers={"keep": "me"}, message_id="m"))
    m, _, _ = ch.basic_get(q)
    before = int(time.time())
    ch.basic_reject(m.delivery_tag, requeue=False)
    m, p, b = get1(ch, dlq)
    assert b == b"r" and p.message_id == "m"
    assert m.exchange == dlx and m.routing_key == q  # original routing key kept
    h = p.headers
    assert h["keep"] == "me"
    assert h["x-first-death-exchange"] == ""
    assert h["x-first-death-queue"] == q
    assert h["x-first-death-reason"] == "rejected"
    (d,) = h["x-death"]
    assert set(d) == {"count", "reason", "queue", "time", "exchange", "routing-keys"}
    assert d["count"] == 1 and d["reason"] == "rejected" and d["queue"] == q
    assert d["exchange"] == "" and d["routing-keys"] == [q]
    assert isinstance(d["time"], datetime.datetime)
    ts = d["time"].replace(tzinfo=datetime.timezone.utc).timestamp()
    assert before - 2 <= ts <= time.time() + 2


def test_nack_dead_letters_with_routing_key_override(ch, uname):
    dlq = ch.queue_declare("", exclusive=True).method.queue
    q = uname("src")
    ch.queue_declare(q, exclusive=True, arguments={"x-dead-letter-exchange": "",
                                                   "x-dead-letter-routing-key": dlq})
    ch.confirm_delivery()
    ch.basic_publish("", q, b"n")
    m, _, _ = ch.basic_get(q)
    ch.basic_nack(m.delivery_tag, requeue=False)
    m, p, b = get1(ch, dlq)
    assert m.exchange == "" and m.routing_key == dlq
    d = p.headers["x-death"][0]
    assert d["routing-keys"] == [q] and d["exchange"] == "" and d["reason"] == "rejected"


def test_queue_ttl_expired_dead_letter(ch, uname):
    dlx, dlq, q = setup_dlx(ch, uname, **{"x-message-ttl": 50})
    ch.confirm_delivery()
    ch.basic_publish("amq.direct", "", b"e") if False else None
    ch.queue_bind(q, "amq.direct", "rk-" + q)
    ch.basic_publish("amq.direct", "rk-" + q, b"e")
    m, p, b = get1(ch, dlq)
    d = p.headers["x-death"][0]
    assert d["reason"] == "expired" and d["exchange"] == "amq.direct" and d["routing-keys"] == ["rk-" + q]
    assert "original-expiration" not in d
    assert p.headers["x-first-death-reason"] == "expired"


def test_per_message_expiration_dead_letter_original_expiration(ch, uname):
    dlx, dlq, q = setup_dlx(ch, uname)
    ch.confirm_delivery()
    ch.basic_publish("", q, b"e", pika.BasicProperties(expiration="30"))
    m, p, b = get1(ch, dlq)
    assert p.expiration is None  # removed when dead-lettered
    d = p.headers["x-death"][0]
    assert d["reason"] == "expired" and d["original-expiration"] == "30"


def test_maxlen_dead_letter(ch, uname):
    dlx, dlq, q = setup_dlx(ch, uname, **{"x-max-length": 1})
    ch.confirm_delivery()
    ch.basic_publish("", q, b"old")
    ch.basic_publish("", q, b"new")
    m, p, b = get1(ch, dlq)
    assert b == b"old" and p.headers["x-death"][0]["reason"] == "maxlen"


def test_cc_routing_keys_in_x_death(ch, uname):
    dlx, dlq, q = setup_dlx(ch, uname)
    ch.confirm_delivery()
    ch.basic_publish("", q, b"cc", pika.BasicProperties(headers={"CC": ["elsewhere"]}))
    m, _, _ = ch.basic_get(q)
    ch.basic_reject(m.delivery_tag, requeue=False)
    m, p, b = get1(ch, dlq)
    assert p.headers["x-death"][0]["routing-keys"] == [q, "elsewhere"]


def test_x_death_count_increments_and_order(ch, uname):
    """q1 --reject--> q2 --reject--> q1 --reject--> q2: two entries, most recent first,
    counts incremented in place."""
    q1, q2 = uname("q1"), uname("q2")
    ch.queue_declare(q1, exclusive=True, arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": q2})
    ch.queue_declare(q2, exclusive=True, arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": q1})
    ch.confirm_delivery()
    ch.basic_publish("", q1, b"ping")
    hops = [q1, q2, q1]
    for q in hops:
        m, p, b = get1(ch, q) if False else wait_for(lambda q=q: (lambda r: r if r[0] else None)(ch.basic_get(q)))
        ch.basic_reject(m.delivery_tag, requeue=False)
    m, p, b = wait_for(lambda: (lambda r: r if r[0] else None)(ch.basic_get(q2, auto_ack=True)))
    xd = p.headers["x-death"]
    assert [(d["queue"], d["reason"], d["count"]) for d in xd] == [(q1, "rejected", 2), (q2, "rejected", 1)]
    assert p.headers["x-first-death-queue"] == q1
    assert p.headers["x-first-death-reason"] == "rejected"
    # routing-keys of each entry are the ones the message had when it died there
    assert xd[0]["routing-keys"] == [q1] and xd[1]["routing-keys"] == [q2]


def test_dead_letter_to_missing_exchange_drops(ch, uname):
    q = uname("src")
    ch.queue_declare(q, exclusive=True, arguments={"x-dead-letter-exchange": uname("gone")})
    ch.confirm_delivery()
    ch.basic_publish("", q, b"x")
    m, _, _ = ch.basic_get(q)
    ch.basic_reject(m.delivery_tag, requeue=False)
    assert ch.queue_declare(q, passive=True).method.message_count == 0


def test_bcc_keys_route_the_dead_lettered_copy(ch, uname):
    # BCC is stripped from the message, yet without a dead-letter routing key the copy is
    # routed by every original key, BCC ones included.
    x, dlx = uname("x"), uname("dlx")
    ch.exchange_declare(x, "direct", auto_delete=True)
    ch.exchange_declare(dlx, "direct", auto_delete=True)
    src = ch.queue_declare("", exclusive=True,
                           arguments={"x-dead-letter-exchange": dlx}).method.queue
    ch.queue_bind(src, x, "a")
    by_a = ch.queue_declare("", exclusive=True).method.queue
    by_b = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(by_a, dlx, "a")
    ch.queue_bind(by_b, dlx, "b")
    ch.confirm_delivery()
    ch.basic_publish(x, "a", b"m", pika.BasicProperties(headers={"BCC": ["b"]}))
    m, p, b = wait_for(lambda: (lambda r: r if r[0] else None)(ch.basic_get(src)), timeout=3)
    assert "BCC" not in (p.headers or {})
    ch.basic_reject(m.delivery_tag, requeue=False)
    _, pa, ba = get1(ch, by_a)
    _, pb, bb = get1(ch, by_b)
    assert ba == bb == b"m"
    assert pa.headers["x-death"][0]["routing-keys"] == ["a"]
    assert "BCC" not in pb.headers
