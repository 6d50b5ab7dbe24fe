"""confirm.select and tx.* classes."""
import pika
import pytest
from pika import spec

from harness.amqp_assert import channel_closed
from harness.raw_amqp import RawConnection


@pytest.fixture
def rawch(broker):
    raw = RawConnection(broker.host, broker.port)
    raw.handshake()
    raw.send_method(1, spec.Channel.Open())
    raw.recv_method()
    yield raw
    raw.close()


def publish(raw, rk, body=b"x"):
    from pika import frame
    raw.send_method(1, spec.Basic.Publish(exchange="", routing_key=rk))
    raw.send_raw(frame.Header(1, len(body), spec.BasicProperties()).marshal())
    raw.send_raw(frame.Body(1, body).marshal())


def test_confirm_acks_sequence(rawch):
    raw = rawch
    raw.send_method(1, spec.Confirm.Select())
    assert isinstance(raw.recv_method().method, spec.Confirm.SelectOk)
    raw.send_method(1, spec.Queue.Declare(queue="", exclusive=True))
    q = raw.recv_method().method.queue
    for _ in range(50):
        publish(raw, q)
    acked = set()
    while len(acked) < 50:
        m = raw.recv_method(timeout=5).method
        assert isinstance(m, spec.Basic.Ack)
        if m.multiple:
            acked |= set(range(1, m.delivery_tag + 1))
        else:
            acked.add(m.delivery_tag)
    assert acked == set(range(1, 51))


def test_confirm_unroutable_acked(rawch):
    raw = rawch
    raw.send_method(1, spec.Confirm.Select())
    raw.recv_method()
    publish(raw, "no-such-queue-confirm")
    m = raw.recv_method(timeout=5).method
    assert isinstance(m, spec.Basic.Ack) and m.delivery_tag == 1 and not m.multiple


def test_confirm_select_nowait(rawch):
    raw = rawch
    raw.send_method(1, spec.Confirm.Select(nowait=True))
    publish(raw, "nowhere")
    m = raw.recv_method(timeout=5).method
    assert isinstance(m, spec.Basic.Ack) and m.delivery_tag == 1


def test_confirm_nack_on_reject_publish(ch):
    q = ch.queue_declare("", exclusive=True, arguments={"x-max-length": 0, "x-overflow": "reject-publish"}).method.queue
    ch.confirm_delivery()
    with pytest.raises(pika.exceptions.NackError):
        ch.basic_publish("", q, b"x")


def test_tx_then_confirm_refused(conn):
    ch = conn.channel()
    ch.tx_select()
    with channel_closed(406, "PRECONDITION_FAILED - cannot switch from tx to confirm mode"):
        ch.confirm_delivery()


def test_confirm_then_tx_refused(conn):
    ch = conn.channel()
    ch.confirm_delivery()
    with channel_closed(406, "PRECONDITION_FAILED - cannot switch from confirm to tx mode"):
        ch.tx_select()


def test_tx_commit_publish(conn):
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.tx_select()
    ch.basic_publish("", q, b"1")
    ch.basic_publish("", q, b"2")
    assert ch.queue_declare(q, passive=True).method.message_count == 0
    ch.tx_commit()
    assert ch.queue_declare(q, passive=True).method.message_count == 2


def test_tx_rollback_publish(conn):
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.tx_select()
    ch.basic_publish("", q, b"1")
    ch.tx_rollback()
    ch.tx_commit()
    assert ch.queue_declare(q, passive=True).method.message_count == 0


def test_tx_ack_commit_and_rollback(conn):
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_publish("", q, b"1")
    ch.basic_publish("", q, b"2")
    ch.tx_select()
    m1 = ch.basic_get(q)[0]
    m2 = ch.basic_get(q)[0]
    ch.basic_ack(m1.delivery_tag)
    ch.tx_rollback()  # ack discarded; message stays unacked
    ch.basic_ack(m2.delivery_tag)
    ch.tx_commit()
    ch.basic_recover(requeue=True)
    ch.tx_commit()
    m, p, b = ch.basic_get(q, auto_ack=True)
    assert b == b"1" and m.redelivered
    assert ch.basic_get(q, auto_ack=True) == (None, None, None)


def test_tx_commit_without_select(conn):
    ch = conn.channel()
    with channel_closed(406, "PRECONDITION_FAILED - channel is not transactional"):
        ch.tx_commit()


def test_tx_rollback_without_select(conn):
    ch = conn.channel()
    with channel_closed(406, "PRECONDITION_FAILED - channel is not transactional"):
        ch.tx_rollback()


def test_tx_mandatory_return_at_commit(conn, uname):
    ch = conn.channel()
    returns = []
    ch.add_on_return_callback(lambda c, m, p, b: returns.append(m.reply_code))
    ch.tx_select()
    ch.basic_publish("", uname("noq"), b"x", mandatory=True)
    conn.process_data_events(0.2)
    assert returns == []
    ch.tx_commit()
    conn.process_data_events(0.2)
    assert returns == [312]


def test_tx_bad_cc_header_refused_at_publish(conn, uname):
    # The header is checked when the message is published, not when the transaction commits.
    ch = conn.channel()
    q = ch.queue_declare(uname("txcc"), exclusive=True).method.queue
    ch.tx_select()
    with channel_closed(406, 'PRECONDITION_FAILED - invalid message: '
                             '{unacceptable_type_in_header,"CC",longstr}'):
        ch.basic_publish("", q, b"m", pika.BasicProperties(headers={"CC": "other"}))
        ch.queue_declare(q, passive=True)  # a round trip surfaces the asynchronous close
