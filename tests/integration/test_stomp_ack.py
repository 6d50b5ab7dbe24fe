"""STOMP acknowledgement on pulsed and RabbitMQ: ack modes, prefetch-count, NACK requeue,
transactions, and unacknowledged messages coming back when a session ends."""
import uuid

import pytest

from harness.stomp_helpers import close, connect_target


@pytest.fixture
def queue(pulse_target):
    name = "stomp-ack-" + uuid.uuid4().hex[:10]
    yield name
    pulse_target.delete(queues=[name])


def fill(t, queue, n):
    c, col = connect_target(t)
    for i in range(n):
        c.send("/queue/" + queue, b"m%d" % i, headers={"receipt": "r%d" % i})
    for i in range(n):
        col.receipt()
    close(c)


def test_client_individual_ack_and_prefetch(pulse_target, queue):
    fill(pulse_target, queue, 5)
    c, col = connect_target(pulse_target)
    try:
        c.subscribe("/queue/" + queue, id="s", ack="client-individual",
                    headers={"prefetch-count": "2"})
        first, second = col.message(), col.message()
        assert [first.body, second.body] == [b"m0", b"m1"]
        assert first.headers["ack"] == first.headers["message-id"]
        col.no_message()  # the window is full
        c.ack(second.headers["ack"])
        assert col.message().body == b"m2"
        col.no_message()
        assert pulse_target.queue_depth(queue) == 2
    finally:
        close(c)
    # m0 and m2 were never acknowledged: back in the queue with m3 and m4.
    assert pulse_target.queue_depth(queue) == 4


def test_client_ack_is_cumulative(pulse_target, queue):
    fill(pulse_target, queue, 3)
    c, col = connect_target(pulse_target)
    try:
        c.subscribe("/queue/" + queue, id="s", ack="client")
        msgs = [col.message() for _ in range(3)]
        c.ack(msgs[1].headers["ack"], receipt="acked")
        assert col.receipt() == "acked"
    finally:
        close(c)
    assert pulse_target.queue_depth(queue) == 1  # m0 and m1 acknowledged together


def test_nack_requeues_by_default_and_drops_with_requeue_false(pulse_target, queue):
    fill(pulse_target, queue, 2)
    c, col = connect_target(pulse_target)
    try:
        c.subscribe("/queue/" + queue, id="s", ack="client-individual",
                    headers={"prefetch-count": "1"})
        m = col.message()
        assert (m.body, m.headers["redelivered"]) == (b"m0", "false")
        c.nack(m.headers["ack"])
        again = col.message()
        assert (again.body, again.headers["redelivered"]) == (b"m0", "true")
        c.nack(again.headers["ack"], requeue="false")
        assert col.message().body == b"m1"
    finally:
        close(c)
    assert pulse_target.queue_depth(queue) == 1


def test_auto_ack_message_cannot_be_acked(pulse_target, queue):
    fill(pulse_target, queue, 1)
    c, col = connect_target(pulse_target)
    try:
        c.subscribe("/queue/" + queue, id="s")
        m = col.message()
        c.ack(m.headers["message-id"])
        e = col.error()
        assert e.headers["message"] == "precondition_failed"
        assert e.body == b"PRECONDITION_FAILED - unknown delivery tag 1"
    finally:
        close(c)


def test_ack_errors(pulse_target, queue):
    c, col = connect_target(pulse_target)
    try:
        c.send_frame("ACK", {})
        e = col.error()
        assert (e.headers["message"], e.body) == ("Missing header",
                                                  b"\"ACK\" must include the \"id\" header\n")
        c.send_frame("NACK", {"id": "garbage"})
        e = col.error()
        assert (e.headers["message"], e.body) == ("Invalid header",
                                                  b"\"NACK\" must include a valid \"id\" header\n")
        c.send_frame("ACK", {"id": "T_x@@session-1@@1"})
        e = col.error()
        assert e.headers["message"] == "Subscription not found"
        assert e.body == b"Message with id \"T_x@@session-1@@1\" has no subscription"
    finally:
        close(c)


def test_transaction_commit_and_abort(pulse_target, queue):
    c, col = connect_target(pulse_target)
    try:
        c.subscribe("/queue/" + queue, id="s", ack="client-individual", headers={"receipt": "sub"})
        assert col.receipt() == "sub"
        c.begin("tx1")
        c.send("/queue/" + queue, b"in tx", transaction="tx1")
        col.no_message()
        c.commit("tx1")
        m = col.message()
        assert m.body == b"in tx"
        c.begin("tx2")
        c.send("/queue/" + queue, b"aborted", transaction="tx2")
        c.ack(m.headers["ack"], transaction="tx2")
        c.abort("tx2")
        col.no_message()
    finally:
        close(c)
    # The aborted ACK did not happen: the message is back.
    assert pulse_target.queue_depth(queue) == 1
