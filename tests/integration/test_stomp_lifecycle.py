"""What ends a STOMP session or subscription from the broker's side, on pulsed and RabbitMQ 3.10
with rabbitmq_stomp: the user deleted, the vhost deleted, the queue of a subscription deleted."""
import re

from harness.broker import RabbitBroker
from harness.http_api import q
from harness.limits import PASSWORD, ok
from harness.limits import admin, target, user, vhost  # noqa: F401 (fixtures)
from harness.stomp_helpers import Raw


def channel_died(reason):
    """rabbitmq_stomp's ERROR when its AMQP connection is closed under it: the exit reason as
    Erlang's ~p prints it (the reason on its own line when the tuple passes column 80)."""
    text = '"%s"}}}' % reason
    sep = "\n" + " " * 20 if 16 + 28 + len(text) > 80 else ""
    body = ("Reason: {shutdown,\n            {connection_closing,\n                "
            "{server_initiated_close,320," + sep + text).encode()
    return ("ERROR", [("message", "AMQP channel died"), ("content-type", "text/plain"),
                      ("version", "1.0,1.1,1.2"), ("content-length", str(len(body)))], body)


def squashed(frame):
    """A frame with its body's white space removed (and so without its
    content-length), for texts whose wrapping is Erlang's to choose."""
    command, headers, body = frame
    return (command, [h for h in headers if h[0] != "content-length"],
            re.sub(rb"\s+", b"", body))


def session(target, v, u="guest", p="guest"):
    r = Raw(target.stomp_port)
    assert r.connect(u, p, v)[0] == "CONNECTED"
    return r


def test_user_deletion_closes_its_sessions(target, admin, vhost, user):
    v = vhost()
    u = user(vhosts=[v])
    mine, other = session(target, v, u, PASSWORD), session(target, v)
    try:
        ok(admin.delete("/api/users/" + q(u)), 204)
        assert mine.frame() == channel_died("user '%s' is deleted" % u)
        assert mine.closed()
        other.send(b"DISCONNECT\nreceipt:bye\n\n\0")
        assert other.frame() == ("RECEIPT", [("receipt-id", "bye")], b"")
    finally:
        mine.close()
        other.close()


def test_vhost_deletion_closes_its_sessions(target, admin, vhost):
    v, w = vhost(), vhost()
    mine, other = session(target, v), session(target, w)
    try:
        ok(admin.delete("/api/vhosts/" + q(v)), 204)
        got = mine.frame()
        if isinstance(target, RabbitBroker) and (
                squashed(got) == squashed(channel_died("vhost '%s' is down" % v))):
            # RabbitMQ races its own vhost supervisor: now and then the connection is closed
            # as the vhost stops, before the deletion's close (seen in CI); pulsed always
            # gives the deletion's text. (Where Erlang's ~p breaks that shorter text's line
            # is not what channel_died guesses for every name length: compared unwrapped.)
            got = channel_died("vhost '%s' is deleted" % v)
        assert got == channel_died("vhost '%s' is deleted" % v)
        assert mine.closed()
        other.send(b"DISCONNECT\nreceipt:bye\n\n\0")
        assert other.frame() == ("RECEIPT", [("receipt-id", "bye")], b"")
    finally:
        mine.close()
        other.close()


def test_queue_deleted_under_a_subscription(target, admin, vhost):
    v = vhost()
    name = "sub-deleted"
    r = session(target, v)
    try:
        r.send(("SUBSCRIBE\ndestination:/queue/%s\nid:s1\nreceipt:sub\n\n\0" % name).encode())
        assert r.frame() == ("RECEIPT", [("receipt-id", "sub")], b"")
        ok(admin.delete("/api/queues/%s/%s" % (q(v), name)), 204)
        body = (b"The server has canceled a subscription.\n"
                b"No more messages will be delivered for \"id='s1'\".\n")
        assert r.frame() == ("ERROR", [
            ("message", "Server cancelled subscription"), ("content-type", "text/plain"),
            ("version", "1.0,1.1,1.2"), ("subscription", "s1"),
            ("content-length", str(len(body)))], body)
        # The session goes on.
        r.send(b"DISCONNECT\nreceipt:bye\n\n\0")
        assert r.frame() == ("RECEIPT", [("receipt-id", "bye")], b"")
    finally:
        r.close()
