"""basic.ack, basic.nack, basic.reject and basic.recover."""
from harness.amqp_assert import channel_closed, connection_closed, sync
from harness.basic_ops import fill, get_all, pump, q_excl


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
