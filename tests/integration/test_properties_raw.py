"""Content-header properties travel byte for byte: the broker forwards the encoded properties a
publisher sent (deliver, get, return) instead of decoding and re-encoding them, as RabbitMQ
does with its properties_bin. Field types a re-encoder could normalise (signed 8/16-bit ints,
decimals, byte arrays, void, nested tables) must come back exactly as sent."""
import struct
import time

from rawamqp import (
    BASIC_GET, BASIC_GET_OK, BASIC_PUBLISH, FRAME_BODY, FRAME_HEADER, RawAMQP, bits,
    content_header, long_, longstr, short, shortstr,
)

BASIC_CONSUME = (60, 20)
BASIC_CONSUME_OK = (60, 21)
BASIC_DELIVER = (60, 60)
BASIC_RETURN = (60, 50)


def headers_table():
    fields = (
        shortstr("b") + b"b" + struct.pack(">b", -5)
        + shortstr("s") + b"s" + struct.pack(">h", -300)
        + shortstr("I") + b"I" + struct.pack(">i", -70000)
        + shortstr("l") + b"l" + struct.pack(">q", 1 << 40)
        + shortstr("f") + b"f" + struct.pack(">f", 1.5)
        + shortstr("d") + b"d" + struct.pack(">d", 2.25)
        + shortstr("D") + b"D" + b"\x02" + struct.pack(">i", 12345)
        + shortstr("t") + b"t\x01"
        + shortstr("T") + b"T" + struct.pack(">Q", 1700000000)
        + shortstr("V") + b"V"
        + shortstr("x") + b"x" + longstr(b"\x00\xffraw")
        + shortstr("S") + b"S" + longstr("text")
        + shortstr("F") + b"F" + long_(len(shortstr("k") + b"t\x00"))
        + shortstr("k") + b"t\x00"
        + shortstr("A") + b"A" + long_(len(b"b\x01S" + longstr("a")))
        + b"b\x01S" + longstr("a")
    )
    return long_(len(fields)) + fields


def all_properties():
    """Flags and fields of all 14 basic properties (user_id left out: it must match)."""
    flags = 0xFFFC & ~(1 << 4)
    props = (shortstr("text/plain") + shortstr("gzip") + headers_table() + b"\x01" + b"\x03"
             + shortstr("corr") + shortstr("reply") + shortstr("60000") + shortstr("mid")
             + struct.pack(">Q", 1234567890) + shortstr("type") + shortstr("app")
             + shortstr("cluster"))
    return flags, props


def opened(broker):
    c = RawAMQP(broker.host, broker.port).handshake()
    c.open_channel(1)
    return c


def publish_raw(c, exchange, key, flags, props, body, mandatory=False):
    c.send_method(1, BASIC_PUBLISH, short(0) + shortstr(exchange) + shortstr(key)
                  + bits(mandatory, False))
    c.send_frame(FRAME_HEADER, 1, content_header(len(body), props_flags=flags, props=props))
    c.send_frame(FRAME_BODY, 1, body)


def read_content(c):
    h = c.read_frame()
    assert h.type == FRAME_HEADER, h
    body = c.read_frame()
    assert body.type == FRAME_BODY, body
    return h.payload[12:], body.payload


def test_properties_come_back_byte_for_byte(broker):
    flags, props = all_properties()
    raw = struct.pack(">H", flags) + props
    c = opened(broker)
    q = "rawprops.%d" % time.monotonic_ns()
    c.queue_declare(1, q, exclusive=True)

    publish_raw(c, "", q, flags, props, b"via-get")
    c.send_method(1, BASIC_GET, short(0) + shortstr(q) + bits(True))
    assert c.read_method().method == BASIC_GET_OK
    assert read_content(c) == (raw, b"via-get")

    c.send_method(1, BASIC_CONSUME, short(0) + shortstr(q) + shortstr("tag")
                  + bits(False, True, False, False) + long_(0))
    assert c.read_method().method == BASIC_CONSUME_OK
    publish_raw(c, "", q, flags, props, b"via-deliver")
    assert c.read_method().method == BASIC_DELIVER
    assert read_content(c) == (raw, b"via-deliver")

    # Unroutable and mandatory: basic.return carries the same bytes.
    publish_raw(c, "", "rawprops.nowhere.%d" % time.monotonic_ns(), flags, props, b"back",
                mandatory=True)
    assert c.read_method().method == BASIC_RETURN
    assert read_content(c) == (raw, b"back")
    c.close()


def test_no_properties_and_priority_only(broker):
    """The common hot-path shapes: no properties at all, and a lone priority octet."""
    c = opened(broker)
    q = "rawprops.small.%d" % time.monotonic_ns()
    c.queue_declare(1, q, exclusive=True)
    for flags, props in ((0, b""), (1 << 11, b"\x07"), (1 << 12, b"\x02")):
        publish_raw(c, "", q, flags, props, b"m")
        c.send_method(1, BASIC_GET, short(0) + shortstr(q) + bits(True))
        assert c.read_method().method == BASIC_GET_OK
        assert read_content(c) == (struct.pack(">H", flags) + props, b"m")
    c.close()
