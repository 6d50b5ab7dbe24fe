"""Hostile and malformed input on raw sockets (no client library):
misplaced content frames, max_message_size, channel_max.

See hostile_common.py for what every case checks.
"""
import time

import pytest

from rawamqp import (
    BASIC_PUBLISH, CHANNEL_CLOSE, CHANNEL_CLOSE_OK, CHANNEL_OPEN, FRAME_BODY, FRAME_HEADER,
    FRAME_HEARTBEAT, QUEUE_DECLARE, Close, RawAMQP, bits, content_header, long_, short, shortstr,
)

from hostile_common import (  # noqa: F401 (fixtures)
    bystander, expect_connection_close, limited, limited_bystander, opened,
)


# ---------------------------------------------------- content frames misplaced

UNEXPECTED_NON_METHOD = "UNEXPECTED_FRAME - expected method frame, got non method frame instead"
UNEXPECTED_NON_HEADER = ("UNEXPECTED_FRAME - expected content header for class 60, "
                         "got non content header frame instead")


def _publish_method(c, q="hostile.nowhere"):
    c.send_method(1, BASIC_PUBLISH, RawAMQP.publish_args("", q))


CONTENT_CASES = [
    ("header-without-publish", UNEXPECTED_NON_METHOD, (0, 0)),
    ("body-without-publish", UNEXPECTED_NON_METHOD, (0, 0)),
    ("body-before-header", UNEXPECTED_NON_HEADER, BASIC_PUBLISH),
    ("method-instead-of-header", UNEXPECTED_NON_HEADER, BASIC_PUBLISH),
    ("header-of-wrong-class", "UNEXPECTED_FRAME - expected content header for class 60, "
                              "got one for class 50 instead", BASIC_PUBLISH),
    ("body-after-zero-size-header", UNEXPECTED_NON_METHOD, (0, 0)),
    ("body-on-channel-0", 'UNEXPECTED_FRAME - type 3, all octets = <<"abc">>', (0, 0)),
    ("header-on-channel-0", "UNEXPECTED_FRAME - type 2, all octets = "
                            "<<0,60,0,0,0,0,0,0,0,0,0,3,0,0>>", (0, 0)),
    ("heartbeat-on-channel-1", "UNEXPECTED_FRAME - type 8, all octets = <<>>", (0, 0)),
]


@pytest.mark.parametrize("case,text,cm", CONTENT_CASES, ids=[c[0] for c in CONTENT_CASES])
def test_content_frames_out_of_order(broker, bystander, case, text, cm):
    c = opened(broker)
    if case == "header-without-publish":
        c.send_frame(FRAME_HEADER, 1, content_header(3))
    elif case == "body-without-publish":
        c.send_frame(FRAME_BODY, 1, b"abc")
    elif case == "body-before-header":
        _publish_method(c)
        c.send_frame(FRAME_BODY, 1, b"abc")
    elif case == "method-instead-of-header":
        _publish_method(c)
        c.send_method(1, QUEUE_DECLARE, RawAMQP.queue_declare_args("x"))
    elif case == "header-of-wrong-class":
        _publish_method(c)
        c.send_frame(FRAME_HEADER, 1, content_header(3, class_id=50))
    elif case == "body-after-zero-size-header":
        _publish_method(c)
        c.send_frame(FRAME_HEADER, 1, content_header(0))
        c.send_frame(FRAME_BODY, 1, b"abc")
    elif case == "body-on-channel-0":
        c.send_frame(FRAME_BODY, 0, b"abc")
    elif case == "header-on-channel-0":
        c.send_frame(FRAME_HEADER, 0, content_header(3))
    elif case == "heartbeat-on-channel-1":
        c.send_frame(FRAME_HEARTBEAT, 1, b"")
    expect_connection_close(c, 505, text=text, class_method=cm)
    bystander.check()


def test_body_larger_than_declared(broker, bystander):
    """RabbitMQ does not notice the overrun itself: the channel keeps waiting for
    'the rest' of the body, the message is never routed, and the next method on
    the channel gets 505 'expected content body'. A broker that refuses the
    overrun at once with a 505 also passes; the message must never be delivered."""
    c = opened(broker)
    q = "hostile.overrun.%d" % time.monotonic_ns()
    c.queue_declare(1, q)
    _publish_method(c, q)
    c.send_frame(FRAME_HEADER, 1, content_header(3))
    c.send_frame(FRAME_BODY, 1, b"abcdef")
    try:
        c.send_method(1, QUEUE_DECLARE, RawAMQP.queue_declare_args(q, passive=True))
    except OSError:
        pass
    ev = c.read_until_close(timeout=5)
    assert isinstance(ev, Close) and ev.level == "connection" and ev.code == 505, ev
    assert ev.text.startswith("UNEXPECTED_FRAME - "), ev
    if broker.target == "rabbitmq":
        assert ev.text == "UNEXPECTED_FRAME - expected content body, got non content body frame instead"
        assert (ev.class_id, ev.method_id) == BASIC_PUBLISH
    c.abort()
    other = opened(broker)
    try:
        assert other.basic_get(1, q) is None, "overrun message was delivered"
        other.send_method(1, (50, 40), short(0) + shortstr(q) + bits(False, False, False))
        other.read_method((50, 41))
    finally:
        other.close()
    bystander.check()


def test_body_split_over_empty_frames_is_fine(broker):
    c = opened(broker)
    q = "hostile.emptybody.%d" % time.monotonic_ns()
    c.queue_declare(1, q, exclusive=True)
    _publish_method(c, q)
    c.send_frame(FRAME_HEADER, 1, content_header(3))
    c.send_frame(FRAME_BODY, 1, b"")
    c.send_frame(FRAME_BODY, 1, b"a")
    c.send_frame(FRAME_BODY, 1, b"bc")
    assert c.basic_get(1, q) == b"abc"
    c.close()


# ------------------------------------------------------------ max_message_size

def test_message_larger_than_max_message_size(limited, limited_bystander):
    c = opened(limited)
    q = "hostile.maxmsg.%d" % time.monotonic_ns()
    c.queue_declare(1, q, exclusive=True)
    c.publish(1, "", q, b"x" * 65536)
    assert c.basic_get(1, q) == b"x" * 65536
    c.publish(1, "", q, b"y" * 65537)
    ev = c.read_until_close(timeout=5)
    assert isinstance(ev, Close) and ev.level == "channel" and ev.channel == 1, ev
    assert ev.code == 406
    assert ev.text == "PRECONDITION_FAILED - message size 65537 is larger than configured max size 65536"
    assert (ev.class_id, ev.method_id) == BASIC_PUBLISH
    c.send_method(1, CHANNEL_CLOSE_OK)
    # the connection survives a channel-level error
    c.open_channel(2)
    assert c.basic_get(2, q) is None
    c.close()
    limited_bystander.check()


# ------------------------------------------------------------------ channel_max

def test_channel_max_counts_open_channels(limited, limited_bystander):
    c = opened(limited, channel=0)
    assert c.tune[0] == 16
    for n in range(1, 17):
        c.open_channel(n)
    c.send_method(17, CHANNEL_OPEN, shortstr(""))
    expect_connection_close(
        c, 530, text="NOT_ALLOWED - number of channels opened (16) has reached the "
                     "negotiated channel_max (16)", class_method=(0, 0))
    limited_bystander.check()


def test_channel_max_negotiated_by_client(broker, bystander):
    c = opened(broker, channel=0, channel_max=3)
    for n in (1, 2, 3):
        c.open_channel(n)
    # closing one frees a slot
    c.send_method(2, CHANNEL_CLOSE, short(200) + shortstr("") + short(0) + short(0))
    c.read_method(CHANNEL_CLOSE_OK)
    c.open_channel(2)
    c.send_method(3, CHANNEL_CLOSE, short(200) + shortstr("") + short(0) + short(0))
    c.read_method(CHANNEL_CLOSE_OK)
    c.open_channel(3)
    c.send_method(1, (60, 10), long_(0) + short(0) + bits(False))  # basic.qos, still fine
    c.read_method((60, 11))
    c.send_method(4, CHANNEL_OPEN, shortstr(""))
    expect_connection_close(
        c, 530, text="NOT_ALLOWED - number of channels opened (3) has reached the "
                     "negotiated channel_max (3)", class_method=(0, 0))
    bystander.check()


def test_channel_error_keeps_connection(broker):
    """Sanity: a channel-level error (404 on a passive declare) closes only the channel."""
    c = opened(broker)
    c.send_method(1, QUEUE_DECLARE, RawAMQP.queue_declare_args("hostile.missing.queue", passive=True))
    ev = c.read_until_close(timeout=5)
    assert isinstance(ev, Close) and ev.level == "channel", ev
    assert ev.code == 404
    assert ev.text == "NOT_FOUND - no queue 'hostile.missing.queue' in vhost '/'"
    c.send_method(1, CHANNEL_CLOSE_OK)
    c.open_channel(1)
    c.close()
