"""Resource alarms and STOMP, on pulsed: as RabbitMQ's STOMP reader does, a session whose SEND
meets a memory or disk alarm has that frame processed and is then no longer read (TCP
back-pressure holds the publisher); sessions that do not SEND go on working."""
from harness.stomp_helpers import Raw

DISK_ALARM = {"disk_free_limit.absolute": str(10 ** 15)}  # 1 PB: more than any disk here


def test_disk_alarm_stops_reading_a_stomp_publisher_only(broker_with, uname):
    b = broker_with(DISK_ALARM)
    q = uname("stomp-alarm")
    pub, sub = Raw(b.stomp_port), Raw(b.stomp_port)
    try:
        assert pub.connect()[0] == "CONNECTED" and sub.connect()[0] == "CONNECTED"
        sub.send(("SUBSCRIBE\ndestination:/queue/%s\nid:s\nreceipt:sub\n\n\0" % q).encode())
        assert sub.frame() == ("RECEIPT", [("receipt-id", "sub")], b"")
        pub.send(("SEND\ndestination:/queue/%s\nreceipt:one\n\nfirst\0" % q).encode())
        # The SEND that met the alarm is processed...
        assert pub.frame() == ("RECEIPT", [("receipt-id", "one")], b"")
        cmd, headers, body = sub.frame()
        assert cmd == "MESSAGE" and body == b"first"
        # ...then the publisher is not read: no receipt, nothing delivered, even to a DISCONNECT.
        pub.send(("SEND\ndestination:/queue/%s\nreceipt:two\n\nsecond\0" % q).encode())
        pub.send(b"DISCONNECT\nreceipt:bye\n\n\0")
        try:
            f = pub.frame(timeout=1.5)
        except AssertionError:
            f = "nothing"
        assert f == "nothing"
        # A session that only consumes still works.
        sub.send(b"UNSUBSCRIBE\nid:s\nreceipt:unsub\n\n\0")
        assert sub.frame() == ("RECEIPT", [("receipt-id", "unsub")], b"")
    finally:
        pub.close()
        sub.close()
