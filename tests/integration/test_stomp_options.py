"""The stomp.* switches with no other test, on pulsed (nodes started with the setting):
stomp.implicit_connect, stomp.hide_server_info, stomp.default_nack_requeue and
stomp.login_timeout (milliseconds, as rabbitmq_stomp's)."""
import time

from harness.stomp_helpers import Raw


def test_implicit_connect(broker_with, uname):
    b = broker_with({"stomp.implicit_connect": "true"})
    q = uname("implicit")
    r = Raw(b.stomp_port)
    try:
        # No CONNECT: the first frame logs in as stomp.default_user, and no CONNECTED is sent.
        r.send(("SUBSCRIBE\ndestination:/queue/%s\nid:s\nreceipt:sub\n\n\0" % q).encode())
        assert r.frame() == ("RECEIPT", [("receipt-id", "sub")], b"")
        r.send(("SEND\ndestination:/queue/%s\n\nhi\0" % q).encode())
        cmd, headers, body = r.frame()
        assert cmd == "MESSAGE" and body == b"hi"
    finally:
        r.close()


def test_without_implicit_connect_a_frame_before_connect_is_refused(broker_with):
    b = broker_with({})
    r = Raw(b.stomp_port)
    try:
        r.send(b"SUBSCRIBE\ndestination:/queue/x\nid:s\n\n\0")
        cmd, headers, body = r.frame()
        assert cmd == "ERROR" and dict(headers)["message"] == "Illegal command"
        assert body == b"You must log in using CONNECT first"
    finally:
        r.close()


def test_hide_server_info(broker_with):
    shown = Raw(broker_with({}).stomp_port)
    hidden = Raw(broker_with({"stomp.hide_server_info": "true"}).stomp_port)
    try:
        cmd, headers, _ = shown.connect()
        assert cmd == "CONNECTED" and dict(headers)["server"].startswith("Pulse/")
        cmd, headers, _ = hidden.connect()
        assert cmd == "CONNECTED" and [k for k, _ in headers] == ["session", "heart-beat",
                                                                  "version"]
    finally:
        shown.close()
        hidden.close()


def nack_once(b, q, nack_headers=""):
    """Publishes one message, NACKs it (client-individual) and says whether it came back."""
    r = Raw(b.stomp_port)
    try:
        assert r.connect()[0] == "CONNECTED"
        r.send(("SUBSCRIBE\ndestination:/queue/%s\nid:s\nack:client-individual\n\n\0"
                % q).encode())
        r.send(("SEND\ndestination:/queue/%s\n\nm\0" % q).encode())
        cmd, headers, _ = r.frame()
        assert cmd == "MESSAGE"
        r.send(("NACK\nid:%s\n%sreceipt:n\n\n\0" % (dict(headers)["ack"], nack_headers)).encode())
        frames = []
        while not frames or frames[-1][0] != "RECEIPT":
            frames.append(r.frame())
        try:
            frames.append(r.frame(timeout=1))
        except AssertionError:
            pass
        return any(f[0] == "MESSAGE" and dict(f[1])["redelivered"] == "true" for f in frames)
    finally:
        r.close()


def test_default_nack_requeue(broker_with, uname):
    assert nack_once(broker_with({}), uname("nack")) is True
    off = broker_with({"stomp.default_nack_requeue": "false"})
    assert nack_once(off, uname("nack")) is False
    # The NACK's own requeue header still decides.
    assert nack_once(off, uname("nack"), "requeue:true\n") is True


def test_login_timeout(broker_with):
    b = broker_with({"stomp.login_timeout": "300"})
    idle, prompt = Raw(b.stomp_port), None
    try:
        t = time.time()
        assert idle.closed(timeout=5)
        assert time.time() - t < 4
        # A session that logs in in time is not closed later.
        prompt = Raw(b.stomp_port)
        assert prompt.connect()[0] == "CONNECTED"
        time.sleep(0.6)
        prompt.send(b"DISCONNECT\nreceipt:bye\n\n\0")
        assert prompt.frame() == ("RECEIPT", [("receipt-id", "bye")], b"")
    finally:
        idle.close()
        if prompt:
            prompt.close()
