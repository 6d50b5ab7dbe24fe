"""At SIGTERM, STOMP and Web-STOMP connections first handle what their clients already sent, as
AMQP connections do (test_persistence.py): ACK frames on the wire when the stop comes are kept,
so after the restart only the unacked persistent messages come back."""
import os
import signal
import socket

import pytest

from harness.broker import PulsedBroker
from harness.stomp_helpers import Raw
from harness.util import unique
from harness.web_stomp import WsStomp

pytestmark = pytest.mark.pulsed_only

N = 400
UNACKED = 10
# Each ACK carries a header the broker ignores, so that the 390 of them (~200 KB) take more
# reads than the broker makes before it handles the signal (two of 64 KiB, when the socket's
# readiness comes first); what its stopped socket cannot take waits in the client's, which
# loopback TCP hands over as the broker reads.
PAD = "x" * 450


@pytest.fixture
def node():
    b = PulsedBroker()
    b.start()
    yield b
    b.stop(check=False)


def fill(node, q):
    """N persistent messages on the durable queue q, each SEND's RECEIPT (sent once the message
    is on disk) awaited."""
    r = Raw(node.stomp_port)
    try:
        assert r.connect()[0] == "CONNECTED"
        for i in range(N):
            r.send(("SEND\ndestination:/queue/%s\npersistent:true\nreceipt:r%d\n\nm%d\0"
                    % (q, i, i)).encode())
        for i in range(N):
            assert r.frame() == ("RECEIPT", [("receipt-id", "r%d" % i)], b"")
    finally:
        r.close()


def subscribe_frame(q):
    return ("SUBSCRIBE\ndestination:/queue/%s\nid:s\nack:client-individual\nprefetch-count:%d"
            "\n\n\0" % (q, N)).encode()


def ack_frame(ack_id):
    return ("ACK\nid:%s\nx-pad:%s\n\n\0" % (ack_id, PAD)).encode()


def stop_while_acking(node, send_acks):
    """The broker is stopped while the ACKs are written and gets SIGTERM before it runs again,
    so the signal and the ACKs wait for it together; then it is started again."""
    os.kill(node.pid, signal.SIGSTOP)
    try:
        send_acks()
        os.kill(node.pid, signal.SIGTERM)
    finally:
        os.kill(node.pid, signal.SIGCONT)
    node.restart(kill=False)


def left_in(node, q):
    c = node.connect()
    out = []
    try:
        ch = c.channel()
        while True:
            m, _p, body = ch.basic_get(q, auto_ack=True)
            if m is None:
                return out
            out.append(body)
    finally:
        c.close()


def test_stomp_acks_sent_just_before_a_clean_stop_are_kept(node):
    q = unique("stomp-drain")
    fill(node, q)
    r = Raw(node.stomp_port)
    # Room for every ACK on the client's side, whatever the broker's buffer takes.
    r.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    try:
        assert r.connect()[0] == "CONNECTED"
        r.send(subscribe_frame(q))
        got = []
        for _ in range(N):
            cmd, headers, body = r.frame()
            assert cmd == "MESSAGE"
            got.append((dict(headers)["ack"], body))
        acks = b"".join(ack_frame(a) for a, _b in got[:-UNACKED])
        assert len(acks) > 3 * 64 * 1024
        stop_while_acking(node, lambda: r.send(acks))
    finally:
        r.close()
    assert left_in(node, q) == [b for _a, b in got[-UNACKED:]]


def test_web_stomp_acks_sent_just_before_a_clean_stop_are_kept(node):
    q = unique("ws-drain")
    fill(node, q)
    c = WsStomp(node.web_stomp_port)
    c.ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    try:
        assert c.connect("guest", "guest", "/")[0] == "CONNECTED"
        c.send(subscribe_frame(q))
        got = []
        for _ in range(N):
            cmd, headers, body = c.frame()
            assert cmd == "MESSAGE"
            got.append((dict(headers)["ack"], body))

        def send_acks():
            # One WebSocket message per ACK, as a STOMP client over WebSocket writes them.
            for a, _b in got[:-UNACKED]:
                c.send(ack_frame(a))
        stop_while_acking(node, send_acks)
    finally:
        c.close()
    assert left_in(node, q) == [b for _a, b in got[-UNACKED:]]
