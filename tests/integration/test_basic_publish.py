"""basic.publish (mandatory, bodies, properties, field tables), basic.get, per-message expiration and CC/BCC."""
import datetime
import decimal
import struct
import time

import pika
import pytest
from pika import frame, spec

from harness.amqp_assert import channel_closed, sync
from harness.basic_ops import fill, get_all, pump, q_excl
from harness.raw_amqp import RawConnection



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
    returns = []
    ch.add_on_return_callback(lambda c, m, p, b: returns.append(m))
    q = uname("noq")
    # Confirmed: a nack would raise NackError, a basic.return UnroutableError.
    ch.basic_publish("", q, b"x")
    conn.process_data_events(0.2)
    assert returns == [] and ch.is_open
    # Dropped, not kept for a queue of that name declared later.
    ch.queue_declare(q, exclusive=True)
    assert ch.queue_declare(q, passive=True).method.message_count == 0
    assert ch.basic_get(q, auto_ack=True)[0] is None


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
