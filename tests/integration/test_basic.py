"""basic.* class."""
import datetime
import decimal
import re
import struct
import time

import pika
import pytest
from pika import frame, spec

from harness.amqp_assert import channel_closed, connection_closed, sync
from harness.raw_amqp import RawConnection
from harness.util import wait_for

CTAG = re.compile(r"^amq\.ctag-[A-Za-z0-9_\-]{22}$")


def q_excl(ch):
    return ch.queue_declare("", exclusive=True).method.queue


def fill(ch, q, n, fmt=b"%d"):
    ch.confirm_delivery()
    for i in range(n):
        ch.basic_publish("", q, fmt % i)


def get_all(ch, q, ack=True):
    out = []
    while True:
        m, p, b = ch.basic_get(q, auto_ack=ack)
        if m is None:
            return out
        out.append(b)


def pump(conn, pred, timeout=3):
    return wait_for(lambda: conn.process_data_events(0.02) or pred(), timeout=timeout)


# ----------------------------------------------------------------- qos --

def test_qos_prefetch_count_per_consumer(conn):
    ch = conn.channel()
    q = q_excl(ch)
    fill(ch, q, 10)
    ch.basic_qos(prefetch_count=3)
    got = []
    ch.basic_consume(q, lambda c, m, p, b: got.append(m.delivery_tag))
    conn.process_data_events(0.3)
    assert len(got) == 3
    ch.basic_ack(got[-1], multiple=True)
    conn.process_data_events(0.3)
    assert len(got) == 6


def test_qos_non_global_applies_to_each_consumer(conn):
    ch = conn.channel()
    q1, q2 = q_excl(ch), q_excl(ch)
    fill(ch, q1, 5)
    fill(ch, q2, 5)
    ch.basic_qos(prefetch_count=2, global_qos=False)
    got = {q1: 0, q2: 0}
    for q in (q1, q2):
        ch.basic_consume(q, lambda c, m, p, b, q=q: got.__setitem__(q, got[q] + 1))
    conn.process_data_events(0.3)
    assert got == {q1: 2, q2: 2}


def test_qos_global_shared_by_channel(conn):
    ch = conn.channel()
    q1, q2 = q_excl(ch), q_excl(ch)
    fill(ch, q1, 5)
    fill(ch, q2, 5)
    ch.basic_qos(prefetch_count=3, global_qos=True)
    got = []
    for q in (q1, q2):
        ch.basic_consume(q, lambda c, m, p, b: got.append(m.delivery_tag))
    conn.process_data_events(0.3)
    assert len(got) == 3


def test_qos_global_and_per_consumer_combined(conn):
    ch = conn.channel()
    q1, q2 = q_excl(ch), q_excl(ch)
    fill(ch, q1, 5)
    fill(ch, q2, 5)
    ch.basic_qos(prefetch_count=3, global_qos=True)
    ch.basic_qos(prefetch_count=1, global_qos=False)
    got = []
    for q in (q1, q2):
        ch.basic_consume(q, lambda c, m, p, b: got.append(m.delivery_tag))
    conn.process_data_events(0.3)
    assert len(got) == 2  # each consumer limited to 1, channel limit 3 not reached


def test_qos_applies_only_to_later_consumers(conn):
    ch = conn.channel()
    q = q_excl(ch)
    fill(ch, q, 6)
    ch.basic_qos(prefetch_count=2)
    got = []
    ch.basic_consume(q, lambda c, m, p, b: got.append(m.delivery_tag))
    ch.basic_qos(prefetch_count=5)  # the existing consumer keeps 2
    conn.process_data_events(0.3)
    assert len(got) == 2


def test_qos_prefetch_size_not_implemented(conn):
    ch = conn.channel()
    with connection_closed(540, "NOT_IMPLEMENTED - prefetch_size!=0 (1000)"):
        ch.basic_qos(prefetch_size=1000)


def test_qos_get_ignores_prefetch(ch):
    q = q_excl(ch)
    fill(ch, q, 3)
    ch.basic_qos(prefetch_count=1)
    tags = [ch.basic_get(q)[0].delivery_tag for _ in range(3)]
    assert tags == [1, 2, 3]


# ------------------------------------------------------------- consume --

@pytest.fixture
def rawch(broker):
    raw = RawConnection(broker.host, broker.port)
    raw.handshake()
    raw.send_method(1, spec.Channel.Open())
    raw.recv_method()
    yield raw
    raw.close()


def test_consume_generated_tag_and_cancel(rawch):
    raw = rawch
    raw.send_method(1, spec.Queue.Declare(queue="", exclusive=True))
    q = raw.recv_method().method.queue
    raw.send_method(1, spec.Basic.Consume(queue=q, consumer_tag=""))
    ok = raw.recv_method().method
    assert isinstance(ok, spec.Basic.ConsumeOk)
    assert CTAG.match(ok.consumer_tag), ok.consumer_tag
    raw.send_method(1, spec.Queue.Declare(queue=q, passive=True))
    assert raw.recv_method().method.consumer_count == 1
    raw.send_method(1, spec.Basic.Cancel(consumer_tag=ok.consumer_tag))
    c = raw.recv_method().method
    assert isinstance(c, spec.Basic.CancelOk) and c.consumer_tag == ok.consumer_tag
    raw.send_method(1, spec.Queue.Declare(queue=q, passive=True))
    assert raw.recv_method().method.consumer_count == 0


def test_consume_tag_reuse(rawch):
    raw = rawch
    raw.send_method(1, spec.Queue.Declare(queue="", exclusive=True))
    q = raw.recv_method().method.queue
    raw.send_method(1, spec.Basic.Consume(queue=q, consumer_tag="mytag"))
    assert raw.recv_method().method.consumer_tag == "mytag"
    raw.send_method(1, spec.Basic.Consume(queue=q, consumer_tag="mytag"))
    fr = raw.recv_method()
    # a CONNECTION error in RabbitMQ
    assert fr.channel_number == 0 and isinstance(fr.method, spec.Connection.Close)
    assert fr.method.reply_code == 530
    assert fr.method.reply_text == "NOT_ALLOWED - attempt to reuse consumer tag 'mytag'"
    assert (fr.method.class_id, fr.method.method_id) == (60, 20)


def test_consume_missing_queue(conn, uname):
    q = uname("noq")
    with channel_closed(404, "NOT_FOUND - no queue '%s' in vhost '/'" % q):
        conn.channel().basic_consume(q, lambda *a: None)


def test_cancel_unknown_tag_is_ok(ch):
    ch.basic_cancel("no-such-tag")  # cancel-ok, no error


def test_no_ack_consume_delivers_and_removes(conn):
    ch = conn.channel()
    q = q_excl(ch)
    fill(ch, q, 3)
    got = []
    ch.basic_consume(q, lambda c, m, p, b: got.append((m.delivery_tag, m.redelivered, b)), auto_ack=True)
    pump(conn, lambda: len(got) == 3)
    assert got == [(1, False, b"0"), (2, False, b"1"), (3, False, b"2")]
    assert ch.queue_declare(q, passive=True).method.message_count == 0


def test_exclusive_consumer_blocks_others(conn):
    ch = conn.channel()
    q = q_excl(ch)
    ch.basic_consume(q, lambda *a: None, exclusive=True)
    with channel_closed(403, "ACCESS_REFUSED - queue '%s' in vhost '/' in exclusive use" % q):
        conn.channel().basic_consume(q, lambda *a: None)


def test_exclusive_consume_when_others_exist(conn):
    ch = conn.channel()
    q = q_excl(ch)
    ch.basic_consume(q, lambda *a: None)
    with channel_closed(403, "ACCESS_REFUSED - queue '%s' in vhost '/' in exclusive use" % q):
        conn.channel().basic_consume(q, lambda *a: None, exclusive=True)


def test_server_cancel_on_queue_delete(conn, uname):
    ch = conn.channel()
    q = uname("cq")
    ch.queue_declare(q)
    cancelled = []
    ch.add_on_cancel_callback(lambda m: cancelled.append(m.method.consumer_tag))
    tag = ch.basic_consume(q, lambda *a: None)
    conn.channel().queue_delete(q)
    pump(conn, lambda: cancelled)
    assert cancelled == [tag]
    assert ch.is_open


def test_consumer_priority(conn):
    ch = conn.channel()
    q = q_excl(ch)
    ch.basic_qos(prefetch_count=2)
    low, high = [], []
    ch.basic_consume(q, lambda c, m, p, b: low.append(b), arguments={"x-priority": 1})
    ch.basic_consume(q, lambda c, m, p, b: high.append(b), arguments={"x-priority": 10})
    fill(ch, q, 5)
    conn.process_data_events(0.3)
    assert (len(high), len(low)) == (2, 2)  # high fills first, then low gets the rest
    assert high == [b"0", b"1"]


def test_consumer_priority_invalid_type(conn):
    ch = conn.channel()
    q = q_excl(ch)
    with channel_closed(406, startswith="PRECONDITION_FAILED - invalid arg 'x-priority'"):
        ch.basic_consume(q, lambda *a: None, arguments={"x-priority": "high"})


# ------------------------------------------------------------- publish --

def test_mandatory_unroutable_returns(conn, uname):
    ch = conn.channel()
    returns = []
    ch.add_on_return_callback(lambda c, m, p, b: returns.append((m, p, b)))
    ch.basic_publish("amq.direct", uname("nobody"), b"lost", pika.BasicProperties(message_id="m1"),
                     mandatory=True)
    pump(conn, lambda: returns)
    m, p, b = returns[0]
    assert (m.reply_code, m.reply_text) == (312, "NO_ROUTE")
    assert m.exchange == "amq.direct"
    assert b == b"lost" and p.message_id == "m1"


def test_mandatory_with_confirms_return_before_ack(conn, uname):
    ch = conn.channel()
    ch.confirm_delivery()
    with pytest.raises(pika.exceptions.UnroutableError) as ei:
        ch.basic_publish("", uname("noq"), b"x", mandatory=True)
    (ret,) = ei.value.messages
    assert ret.method.reply_code == 312 and ret.method.reply_text == "NO_ROUTE"


def test_unroutable_without_mandatory_silently_dropped(conn, uname):
    ch = conn.channel()
    ch.confirm_delivery()
    ch.basic_publish("", uname("noq"), b"x")  # acked


def test_immediate_flag_not_implemented(broker):
    raw = RawConnection(broker.host, broker.port)
    try:
        raw.handshake()
        raw.send_method(1, spec.Channel.Open())
        raw.recv_method()
        raw.send_method(1, spec.Basic.Publish(exchange="", routing_key="x", immediate=True))
        raw.send_raw(frame.Header(1, 1, spec.BasicProperties()).marshal())
        raw.send_raw(frame.Body(1, b"z").marshal())
        fr = raw.recv_method()
        assert fr.channel_number == 0 and isinstance(fr.method, spec.Connection.Close)
        assert fr.method.reply_code == 540
        assert fr.method.reply_text == "NOT_IMPLEMENTED - immediate=true"
        assert (fr.method.class_id, fr.method.method_id) == (60, 40)
    finally:
        raw.close()


def test_empty_body(ch):
    q = q_excl(ch)
    ch.confirm_delivery()
    ch.basic_publish("", q, b"")
    m, p, b = ch.basic_get(q, auto_ack=True)
    assert b == b"" and m is not None


def test_large_body_10mib(ch):
    q = q_excl(ch)
    body = bytes(range(256)) * (10 * 1024 * 4)
    assert len(body) == 10 * 1024 * 1024
    ch.confirm_delivery()
    ch.basic_publish("", q, body)
    m, p, b = ch.basic_get(q, auto_ack=True)
    assert b == body


def test_all_basic_properties_roundtrip(ch):
    q = q_excl(ch)
    ts = 1700000000
    props = pika.BasicProperties(
        content_type="application/json", content_encoding="gzip",
        headers={"h": "v"}, delivery_mode=2, priority=7, correlation_id="corr",
        reply_to="rq", expiration="60000", message_id="mid", timestamp=ts,
        type="ty", user_id="guest", app_id="app", cluster_id="cid")
    ch.confirm_delivery()
    ch.basic_publish("", q, b"p", props)
    m, p, b = ch.basic_get(q, auto_ack=True)
    for k in ("content_type", "content_encoding", "headers", "delivery_mode", "priority",
              "correlation_id", "reply_to", "expiration", "message_id", "timestamp", "type",
              "user_id", "app_id", "cluster_id"):
        assert getattr(p, k) == getattr(props, k), k


def test_user_id_mismatch_refused(conn):
    ch = conn.channel()
    q = q_excl(ch)
    with channel_closed(406, "PRECONDITION_FAILED - user_id property set to 'mallory' but authenticated "
                             "user was 'guest'"):
        ch.basic_publish("", q, b"x", pika.BasicProperties(user_id="mallory"))
        sync(ch)


def test_pika_field_table_types_roundtrip(ch):
    q = q_excl(ch)
    headers = {
        "str": "text", "utf8": "h\u00e9llo \u2603", "int": 42, "neg": -7, "big": 2 ** 40,
        "true": True, "false": False, "dec": decimal.Decimal("3.14"),
        "ts": datetime.datetime(2020, 1, 2, 3, 4, 5), "table": {"a": 1, "nested": {"b": "c"}},
        "array": [1, "two", [3], {"four": 4}], "void": None, "bytes": b"\x00\x01\xff",
        "empty": "", "emptytable": {}, "emptyarray": [],
    }
    ch.confirm_delivery()
    ch.basic_publish("", q, b"x", pika.BasicProperties(headers=headers))
    m, p, b = ch.basic_get(q, auto_ack=True)
    assert p.headers == headers


# Every AMQP 0-9-1 / RabbitMQ field type, hand-encoded: the broker must pass
# content headers through byte-for-byte when it does not rewrite them.
RAW_TABLE_ENTRIES = [
    (b"t", b"t", b"\x01"),
    (b"b", b"b", struct.pack(">b", -5)),
    (b"B", b"B", struct.pack(">B", 250)),
    (b"s", b"s", struct.pack(">h", -300)),
    (b"u", b"u", struct.pack(">H", 65000)),
    (b"I", b"I", struct.pack(">i", -70000)),
    (b"i", b"i", struct.pack(">I", 4000000000)),
    (b"l", b"l", struct.pack(">q", -2 ** 40)),
    (b"f", b"f", struct.pack(">f", 1.5)),
    (b"d", b"d", struct.pack(">d", 2.25)),
    (b"D", b"D", struct.pack(">Bi", 2, 314)),
    (b"S", b"S", struct.pack(">I", 3) + b"abc"),
    (b"x", b"x", struct.pack(">I", 2) + b"\x00\xff"),
    (b"T", b"T", struct.pack(">Q", 1577934245)),
    (b"F", b"F", struct.pack(">I", 6) + b"\x01kt\x01"[0:0] + b"\x01kt\x01" + b"\x00"[0:0]),
    (b"A", b"A", struct.pack(">I", 5) + b"I" + struct.pack(">i", 1)),
    (b"V", b"V", b""),
]


def _raw_table():
    body = b""
    for name, t, val in RAW_TABLE_ENTRIES:
        if t == b"F":
            inner = b"\x01kt\x01"
            val = struct.pack(">I", len(inner)) + inner
        body += bytes([len(name)]) + name + t + val
    return struct.pack(">I", len(body)) + body


def test_raw_field_table_all_types_byte_exact(broker):
    raw = RawConnection(broker.host, broker.port)
    try:
        raw.handshake()
        raw.send_method(1, spec.Channel.Open())
        raw.recv_method()
        raw.send_method(1, spec.Queue.Declare(queue="", exclusive=True))
        q = raw.recv_method().method.queue
        table = _raw_table()
        # content header: class 60, weight 0, body size 1, flags: headers only
        payload = struct.pack(">HHQH", 60, 0, 1, 0x2000) + table
        raw.send_method(1, spec.Basic.Publish(exchange="", routing_key=q))
        raw.send_raw(struct.pack(">BHI", 2, 1, len(payload)) + payload + b"\xce")
        raw.send_raw(frame.Body(1, b"!").marshal())
        raw.send_method(1, spec.Basic.Get(queue=q, no_ack=True))
        fr = raw.recv_method()
        assert isinstance(fr.method, spec.Basic.GetOk), fr
        # read the content header frame raw
        while len(raw.buf) < 7:
            raw.buf += raw.sock.recv(65536)
        ftype, chan, size = struct.unpack(">BHI", raw.buf[:7])
        while len(raw.buf) < 8 + size:
            raw.buf += raw.sock.recv(65536)
        assert ftype == 2
        got = raw.buf[7:7 + size]
        assert got == payload
    finally:
        raw.close()


# ----------------------------------------------------------------- get --

def test_get_empty_and_message_count(ch):
    q = q_excl(ch)
    assert ch.basic_get(q) == (None, None, None)
    fill(ch, q, 3)
    m, p, b = ch.basic_get(q, auto_ack=True)
    assert m.message_count == 2 and b == b"0" and not m.redelivered
    assert m.exchange == "" and m.routing_key == q and m.delivery_tag == 1


def test_get_missing_queue(conn, uname):
    q = uname("noq")
    with channel_closed(404, "NOT_FOUND - no queue '%s' in vhost '/'" % q):
        conn.channel().basic_get(q)


# --------------------------------------------------------- ack / nack --

def test_ack_multiple(ch):
    q = q_excl(ch)
    fill(ch, q, 5)
    tags = [ch.basic_get(q)[0].delivery_tag for _ in range(5)]
    assert tags == [1, 2, 3, 4, 5]
    ch.basic_ack(3, multiple=True)
    ch.basic_recover(requeue=True)
    assert get_all(ch, q) == [b"3", b"4"]


def test_ack_zero_multiple_acks_all(ch):
    q = q_excl(ch)
    fill(ch, q, 3)
    for _ in range(3):
        ch.basic_get(q)
    ch.basic_ack(0, multiple=True)
    ch.basic_recover(requeue=True)
    assert get_all(ch, q) == []


def test_unknown_delivery_tag(conn):
    ch = conn.channel()
    with channel_closed(406, "PRECONDITION_FAILED - unknown delivery tag 42"):
        ch.basic_ack(42)
        sync(ch)


def test_double_ack(conn):
    ch = conn.channel()
    q = q_excl(ch)
    fill(ch, q, 1)
    m, _, _ = ch.basic_get(q)
    ch.basic_ack(m.delivery_tag)
    with channel_closed(406, "PRECONDITION_FAILED - unknown delivery tag 1"):
        ch.basic_ack(m.delivery_tag)
        sync(ch)


def test_ack_of_autoack_delivery_is_unknown(conn):
    ch = conn.channel()
    q = q_excl(ch)
    fill(ch, q, 1)
    m, _, _ = ch.basic_get(q, auto_ack=True)
    with channel_closed(406, "PRECONDITION_FAILED - unknown delivery tag 1"):
        ch.basic_ack(m.delivery_tag)
        sync(ch)


def test_reject_unknown_tag(conn):
    ch = conn.channel()
    with channel_closed(406, "PRECONDITION_FAILED - unknown delivery tag 7"):
        ch.basic_reject(7)
        sync(ch)


def test_nack_requeue_keeps_position_and_sets_redelivered(ch):
    q = q_excl(ch)
    fill(ch, q, 4)
    m0 = ch.basic_get(q)[0]
    m1 = ch.basic_get(q)[0]
    ch.basic_nack(m1.delivery_tag, multiple=True, requeue=True)  # both back
    got = []
    while True:
        m, p, b = ch.basic_get(q, auto_ack=True)
        if m is None:
            break
        got.append((b, m.redelivered))
    assert got == [(b"0", True), (b"1", True), (b"2", False), (b"3", False)]


def test_reject_requeue_single(ch):
    q = q_excl(ch)
    fill(ch, q, 3)
    a = ch.basic_get(q)[0]
    b = ch.basic_get(q)[0]
    ch.basic_reject(b.delivery_tag, requeue=True)
    ch.basic_reject(a.delivery_tag, requeue=False)  # discarded (no DLX)
    assert get_all(ch, q) == [b"1", b"2"]


def test_nack_multiple_no_requeue_discards(ch):
    q = q_excl(ch)
    fill(ch, q, 3)
    for _ in range(2):
        ch.basic_get(q)
    ch.basic_nack(0, multiple=True, requeue=False)
    assert get_all(ch, q) == [b"2"]


def test_unacked_requeued_on_channel_close(conn):
    ch = conn.channel()
    q = q_excl(ch)
    fill(ch, q, 3)
    ch2 = conn.channel()
    ch2.basic_get(q)
    ch2.basic_get(q)
    ch2.close()
    got = []
    while True:
        m, p, b = ch.basic_get(q, auto_ack=True)
        if m is None:
            break
        got.append((b, m.redelivered))
    assert got == [(b"0", True), (b"1", True), (b"2", False)]


def test_recover_requeue(ch):
    q = q_excl(ch)
    fill(ch, q, 2)
    ch.basic_get(q)
    ch.basic_get(q)
    ch.basic_recover(requeue=True)
    m, p, b = ch.basic_get(q, auto_ack=True)
    assert b == b"0" and m.redelivered and m.delivery_tag == 3


def test_recover_no_requeue_not_implemented(conn):
    ch = conn.channel()
    with connection_closed(540, "NOT_IMPLEMENTED - requeue=false"):
        ch.basic_recover(requeue=False)


def test_recover_requeue_redelivers_to_consumer(conn):
    ch = conn.channel()
    q = q_excl(ch)
    fill(ch, q, 2)
    got = []
    ch.basic_consume(q, lambda c, m, p, b: got.append((b, m.redelivered, m.delivery_tag)))
    pump(conn, lambda: len(got) == 2)
    ch.basic_recover(requeue=True)
    pump(conn, lambda: len(got) == 4)
    assert got == [(b"0", False, 1), (b"1", False, 2), (b"0", True, 3), (b"1", True, 4)]


def test_consumer_redelivery_after_nack(conn):
    ch = conn.channel()
    q = q_excl(ch)
    fill(ch, q, 1)
    got = []

    def cb(c, m, p, b):
        got.append(m.redelivered)
        if not m.redelivered:
            c.basic_nack(m.delivery_tag, requeue=True)
        else:
            c.basic_ack(m.delivery_tag)
    ch.basic_consume(q, cb)
    pump(conn, lambda: len(got) == 2)
    assert got == [False, True]


# ---------------------------------------------------------- expiration --

def test_per_message_expiration(ch):
    q = q_excl(ch)
    ch.confirm_delivery()
    ch.basic_publish("", q, b"short", pika.BasicProperties(expiration="100"))
    ch.basic_publish("", q, b"long", pika.BasicProperties(expiration="60000"))
    ch.basic_publish("", q, b"none")
    time.sleep(0.25)
    assert get_all(ch, q) == [b"long", b"none"]


def test_per_message_expiration_zero(ch):
    q = q_excl(ch)
    ch.confirm_delivery()
    ch.basic_publish("", q, b"gone", pika.BasicProperties(expiration="0"))
    assert get_all(ch, q) == []


def test_expiration_head_of_line(ch):
    """RabbitMQ only expires messages at the head of a classic queue: an
    expired message behind a live one stays counted until it reaches the
    head (but is never delivered)."""
    q = q_excl(ch)
    ch.confirm_delivery()
    ch.basic_publish("", q, b"long", pika.BasicProperties(expiration="60000"))
    ch.basic_publish("", q, b"short", pika.BasicProperties(expiration="50"))
    time.sleep(0.15)
    assert ch.queue_declare(q, passive=True).method.message_count == 2
    assert get_all(ch, q) == [b"long"]


@pytest.mark.parametrize("exp,text", [
    ("abc", "PRECONDITION_FAILED - invalid expiration 'abc': no_integer"),
    ("-1", "PRECONDITION_FAILED - invalid expiration '-1': {value_negative,-1}"),
])
def test_invalid_expiration(conn, exp, text):
    ch = conn.channel()
    q = q_excl(ch)
    with channel_closed(406, text):
        ch.basic_publish("", q, b"x", pika.BasicProperties(expiration=exp))
        sync(ch)


# -------------------------------------------------------------- CC/BCC --

def test_cc_bcc_headers(ch):
    q1, q2, q3 = q_excl(ch), q_excl(ch), q_excl(ch)
    ch.confirm_delivery()
    ch.basic_publish("", q1, b"cc", pika.BasicProperties(headers={"CC": [q2], "BCC": [q3], "x": 1}))
    r = {}
    for q in (q1, q2, q3):
        m, p, b = ch.basic_get(q, auto_ack=True)
        assert b == b"cc"
        r[q] = (m.routing_key, p.headers)
    assert r[q1] == (q1, {"CC": [q2], "x": 1})
    assert r[q2] == (q1, {"CC": [q2], "x": 1})
    assert r[q3] == (q1, {"CC": [q2], "x": 1})


def test_cc_via_direct_exchange(ch, uname):
    q1, q2 = q_excl(ch), q_excl(ch)
    ch.queue_bind(q1, "amq.direct", "k1")
    ch.queue_bind(q2, "amq.direct", "k2")
    ch.confirm_delivery()
    ch.basic_publish("amq.direct", "k1", b"m", pika.BasicProperties(headers={"CC": ["k2", "nothing"]}))
    assert get_all(ch, q1) == [b"m"] and get_all(ch, q2) == [b"m"]


def test_cc_string_instead_of_array_refused(conn):
    ch = conn.channel()
    q1, q2 = q_excl(ch), q_excl(ch)
    with channel_closed(406, 'PRECONDITION_FAILED - invalid message: {unacceptable_type_in_header,"CC",longstr}'):
        ch.basic_publish("", q1, b"m", pika.BasicProperties(headers={"CC": q2}))
        sync(ch)
