"""A consumer that stops reading its socket (a hung process, a stopped VM) must not make the
broker buffer the queue for it: deliveries stop once the connection's output backlog is full
(max_output_backlog, 4 MiB), other clients go on, and when the client's heartbeats stop the
connection is closed with a logged reason and its unacked messages go back to the queue.
pulsed-only: it reads the broker's memory and log."""
import socket
import time

import pika
import pytest
from pika import spec

from harness.http_api import HttpApi
from harness.pulsed import PulsedBroker
from harness.raw_amqp import RawConnection
from harness.util import unique, wait_for

pytestmark = pytest.mark.pulsed_only

COUNT = 300
BODY = 256 * 1024  # 75 MiB in all


@pytest.fixture
def node():
    b = PulsedBroker().start()
    yield b
    b.stop(check=False)


def ready(b, q):
    c = b.connect()
    try:
        return c.channel().queue_declare(q, passive=True).method.message_count
    finally:
        c.close()


def test_a_consumer_that_never_reads_holds_no_more_than_its_backlog(node):
    q = unique("stalled")
    c = node.connect()
    ch = c.channel()
    ch.queue_declare(q)
    body = b"x" * BODY
    for _ in range(COUNT):
        ch.basic_publish("", q, body)
    c.close()
    wait_for(lambda: ready(node, q) == COUNT, msg="all published")
    baseline = node.rss()

    raw = RawConnection("127.0.0.1", node.port)
    # A small receive buffer: the kernel holds little of what the broker writes.
    raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    raw.handshake(heartbeat=2)
    raw.send_method(1, spec.Channel.Open())
    assert isinstance(raw.recv_method().method, spec.Channel.OpenOk)
    raw.send_method(1, spec.Basic.Consume(queue=q, no_ack=False))
    assert isinstance(raw.recv_method().method, spec.Basic.ConsumeOk)
    # From here on the client reads nothing and sends nothing.
    started = time.time()
    time.sleep(1.5)
    grown = node.rss() - baseline
    unacked = HttpApi(node).get("/api/queues/%2F/" + q).json["messages_unacknowledged"]
    print("stalled consumer: RSS grew %.1f MiB, %d unacked" % (grown / 1048576.0, unacked))
    # What was handed to the connection: its backlog, the write under way, the socket buffers.
    assert 0 < unacked <= 64, unacked
    assert grown < 24 * 1024 * 1024, "the broker buffered %.1f MiB for a stalled consumer" % (
        grown / 1048576.0)

    # Other clients are served meanwhile.
    other = node.connect()
    och = other.channel()
    oq = och.queue_declare("", exclusive=True).method.queue
    t = time.time()
    och.basic_publish("", oq, b"ping")
    assert och.basic_get(oq, auto_ack=True)[2] == b"ping"
    assert time.time() - t < 1.0
    other.close()

    # Two missed heartbeats (2 s each): closed with a reason, and the deliveries are back.
    wait_for(lambda: b"missed heartbeats from client" in open(node.log_path, "rb").read(),
             timeout=15, msg="closed for missed heartbeats")
    assert time.time() - started < 12
    wait_for(lambda: ready(node, q) == COUNT, timeout=10, msg="deliveries requeued")
    raw.sock.close()
