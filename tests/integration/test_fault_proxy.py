"""The fault-injecting proxy of harness/fault_proxy.py, checked with plain sockets against an
echo server (no broker): each control does to both ends what it promises."""
import socket
import threading
import time

import pytest

from harness.fault_proxy import FaultProxy
from harness.util import wait_for


class EchoServer:
    """Echoes every byte back; records for each connection what it received and how it ended
    ("eof" or "reset")."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []  # dicts: received (bytearray), end (None/"eof"/"reset")
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            rec = {"received": bytearray(), "end": None}
            self.conns.append(rec)
            threading.Thread(target=self._serve, args=(c, rec), daemon=True).start()

    def _serve(self, c, rec):
        try:
            while True:
                data = c.recv(65536)
                if not data:
                    rec["end"] = "eof"
                    break
                rec["received"] += data
                c.sendall(data)
        except ConnectionResetError:
            rec["end"] = "reset"
        except OSError:
            rec["end"] = "error"
        finally:
            c.close()

    def close(self):
        self.sock.close()


@pytest.fixture
def echo():
    s = EchoServer()
    yield s
    s.close()


@pytest.fixture
def proxy(echo):
    with FaultProxy(echo.port) as p:
        yield p


def connect(proxy):
    c = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
    return c


def recv_exactly(c, n):
    out = b""
    while len(out) < n:
        data = c.recv(n - len(out))
        assert data, "EOF after %r" % out
        out += data
    return out


def roundtrip(c, data=b"ping"):
    c.sendall(data)
    assert recv_exactly(c, len(data)) == data


def test_forwards_both_ways_and_counts(proxy, echo):
    a, b = connect(proxy), connect(proxy)
    roundtrip(a, b"hello")
    roundtrip(b, b"x" * 300000)  # more than one read and one send
    assert proxy.connections == 2 and proxy.accepted == 2
    assert sorted(len(c["received"]) for c in echo.conns) == [5, 300000]
    a.close()
    wait_for(lambda: proxy.connections == 1, timeout=10, msg="closed client leaves the count")
    wait_for(lambda: echo.conns[0]["end"] == "eof", timeout=10, msg="EOF passed upstream")
    b.close()


def test_drop_closes_both_sides_with_fin(proxy, echo):
    c = connect(proxy)
    roundtrip(c)
    proxy.drop()
    assert c.recv(10) == b""  # EOF, not a reset
    wait_for(lambda: echo.conns[0]["end"] == "eof", timeout=10, msg="upstream EOF")
    assert proxy.connections == 0
    roundtrip(connect(proxy))  # new connections still work


def test_reset_closes_both_sides_with_rst(proxy, echo):
    c = connect(proxy)
    roundtrip(c)
    proxy.reset()
    with pytest.raises(ConnectionResetError):
        c.recv(10)
    wait_for(lambda: echo.conns[0]["end"] == "reset", timeout=10, msg="upstream reset")
    assert proxy.connections == 0


def test_stall_holds_everything_until_resume(proxy, echo):
    c = connect(proxy)
    roundtrip(c)
    proxy.stall()
    c.sendall(b"held")
    late = connect(proxy)  # accepted, but not connected upstream while stalled
    late.sendall(b"late")
    c.settimeout(1.0)
    with pytest.raises(socket.timeout):
        c.recv(10)
    assert bytes(echo.conns[0]["received"]) == b"ping" and len(echo.conns) == 1
    assert proxy.connections == 2  # sockets stay open
    proxy.resume()
    c.settimeout(10)
    assert recv_exactly(c, 4) == b"held"
    late.settimeout(10)
    assert recv_exactly(late, 4) == b"late"
    assert len(echo.conns) == 2


def test_half_close_shuts_only_the_write_side_towards_the_client(proxy, echo):
    c = connect(proxy)
    roundtrip(c)
    proxy.half_close()
    assert c.recv(10) == b""  # the client reads EOF...
    c.sendall(b"still")  # ...but may still write, and the upstream gets it
    wait_for(lambda: bytes(echo.conns[0]["received"]) == b"pingstill", timeout=10,
             msg="client's data after the half-close")
    assert echo.conns[0]["end"] is None  # the upstream side stays open
    c.close()
    wait_for(lambda: echo.conns[0]["end"] == "eof", timeout=10, msg="upstream EOF")
    wait_for(lambda: proxy.connections == 0, timeout=10, msg="pair closed")


def test_refuse_and_accept(proxy):
    c = connect(proxy)
    roundtrip(c)
    proxy.refuse()
    with pytest.raises(ConnectionRefusedError):
        connect(proxy)
    roundtrip(c)  # established connections are not affected
    proxy.accept()
    roundtrip(connect(proxy))


def test_upstream_down_resets_the_client():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there
    with FaultProxy(port) as p:
        start = time.monotonic()
        # The proxy may reset before the client's (non-blocking, timed) connect has collected
        # its result: then connect itself reports the reset. Either way the client sees a reset.
        with pytest.raises(ConnectionResetError):
            c = connect(p)
            c.settimeout(10)
            c.recv(10)
        assert time.monotonic() - start < 5
        assert p.connections == 0
