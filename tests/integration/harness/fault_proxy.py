"""A TCP proxy in front of a broker that injects network faults on command.

FaultProxy(upstream_port).start() listens on a free 127.0.0.1 port (`.port`) and forwards every
accepted connection to the upstream, on one background thread (select over non-blocking
sockets). The controls act on the proxy's thread and return once done:

* drop()       closes every proxied connection on both sides with a normal FIN
* reset()      closes every proxied connection on both sides with an RST (SO_LINGER 0)
* stall()      stops forwarding in both directions, sockets kept open; connections accepted
               meanwhile are not connected upstream until resume()
* resume()     forwards again (what was read before the stall is delivered)
* half_close() shuts down the write side towards every client only: clients read EOF, may still
               write, and what the broker sends them from then on is discarded
* refuse()     closes the listening socket (connects are refused, like a broker that is down)
* accept()     listens again on the same port

`connections` is the number of proxied connections open now, `accepted` how many were accepted
in all, `upstream_ports()` the local ports of the upstream sockets (the broker names a connection
"127.0.0.1:<that port> -> 127.0.0.1:<broker port>").
"""
import errno
import queue
import select
import socket
import struct
import threading

HOST = "127.0.0.1"
_BUFFER_LIMIT = 1 << 20  # bytes held per direction before reading from that side pauses


def _close(sock, rst=False):
    if sock is None:
        return
    if rst:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    else:
        # unread input would turn the close into a reset: a drop must be a plain FIN
        try:
            while sock.recv(65536):
                pass
        except OSError:
            pass  # drained (the sockets are non-blocking)
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    sock.close()


class _Pair:
    """One client connection and its upstream connection, with a buffer per direction."""

    def __init__(self, client):
        self.client = client
        self.upstream = None
        self.to_upstream = bytearray()
        self.to_client = bytearray()
        self.client_eof = False
        self.upstream_eof = False
        self.client_write_shut = False
        self.upstream_write_shut = False

    def sockets(self):
        return [s for s in (self.client, self.upstream) if s is not None]

    def close(self, rst=False):
        _close(self.client, rst)
        _close(self.upstream, rst)
        self.client = self.upstream = None


class FaultProxy:
    def __init__(self, upstream_port, upstream_host=HOST, port=None):
        self.upstream = (upstream_host, upstream_port)
        self.port = port
        self.accepted = 0
        self._pairs = []
        self._listener = None
        self._stalled = False
        self._commands = queue.Queue()
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = None
        self._running = False

    # -- controls (any thread) ---------------------------------------------
    def start(self):
        self._listen()
        self._running = True
        self._thread = threading.Thread(target=self._loop, name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if not self._running:
            return
        self._call(self._shutdown)
        self._thread.join(10)
        self._wake_r.close()
        self._wake_w.close()

    def drop(self):
        self._call(lambda: self._close_all(rst=False))

    def reset(self):
        self._call(lambda: self._close_all(rst=True))

    def stall(self):
        self._call(lambda: setattr(self, "_stalled", True))

    def resume(self):
        self._call(lambda: setattr(self, "_stalled", False))

    def half_close(self):
        self._call(self._half_close_all)

    def refuse(self):
        self._call(self._unlisten)

    def accept(self):
        self._call(self._listen)

    @property
    def connections(self):
        return self._call(lambda: sum(1 for p in self._pairs if p.client is not None))

    def upstream_ports(self):
        return self._call(lambda: [p.upstream.getsockname()[1] for p in self._pairs
                                   if p.upstream is not None])

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- the proxy's thread ------------------------------------------------
    def _call(self, fn, timeout=10):
        if threading.current_thread() is self._thread:
            return fn()
        done = threading.Event()
        box = {}

        def run():
            try:
                box["value"] = fn()
            except BaseException as e:  # noqa: handed back to the caller
                box["error"] = e
            done.set()
        self._commands.put(run)
        self._wake_w.send(b"x")
        if not done.wait(timeout):
            raise RuntimeError("fault proxy did not answer within %s s" % timeout)
        if "error" in box:
            raise box["error"]
        return box.get("value")

    def _listen(self):
        if self._listener is not None:
            return
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((HOST, self.port or 0))
        s.listen(64)
        s.setblocking(False)
        self.port = s.getsockname()[1]
        self._listener = s

    def _unlisten(self):
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _shutdown(self):
        self._close_all(rst=False)
        self._unlisten()
        self._running = False

    def _close_all(self, rst):
        for p in self._pairs:
            p.close(rst)
        self._pairs = []

    def _half_close_all(self):
        for p in self._pairs:
            if not p.client_write_shut:
                try:
                    p.client.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                p.client_write_shut = True
                p.to_client.clear()

    def _accept(self):
        try:
            client, _ = self._listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return
        client.setblocking(False)
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.accepted += 1
        self._pairs.append(_Pair(client))

    def _connect_upstream(self, pair):
        try:
            up = socket.create_connection(self.upstream, timeout=2)
        except OSError:
            # the broker is down: the client sees its connection reset, as close to a refused
            # connect as a proxy that already accepted can make it
            pair.close(rst=True)
            return
        up.setblocking(False)
        up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pair.upstream = up

    def _loop(self):
        while self._running:
            self._run_commands()
            if not self._running:
                break
            if not self._stalled:
                for p in self._pairs:
                    if p.upstream is None and p.client is not None:
                        self._connect_upstream(p)
            self._pairs = [p for p in self._pairs if p.client is not None]
            readers, writers = [self._wake_r], []
            if self._listener is not None:
                readers.append(self._listener)
            if not self._stalled:
                for p in self._pairs:
                    if not p.client_eof and len(p.to_upstream) < _BUFFER_LIMIT:
                        readers.append(p.client)
                    if not p.upstream_eof and len(p.to_client) < _BUFFER_LIMIT:
                        readers.append(p.upstream)
                    if p.to_upstream:
                        writers.append(p.upstream)
                    if p.to_client:
                        writers.append(p.client)
            try:
                r, w, _ = select.select(readers, writers, [], 0.5)
            except (OSError, ValueError):
                continue  # a socket closed by a command meanwhile
            if self._wake_r in r:
                try:
                    self._wake_r.recv(4096)
                except OSError:
                    pass
            if self._listener is not None and self._listener in r:
                self._accept()
            if self._stalled or not self._commands.empty():
                continue
            for p in list(self._pairs):
                self._pump(p, r, w)

    def _run_commands(self):
        while True:
            try:
                fn = self._commands.get_nowait()
            except queue.Empty:
                return
            fn()

    def _pump(self, p, r, w):
        try:
            if p.client in r:
                data = p.client.recv(65536)
                if data:
                    p.to_upstream += data
                else:
                    p.client_eof = True
            if p.upstream in r:
                data = p.upstream.recv(65536)
                if data:
                    if not p.client_write_shut:
                        p.to_client += data
                else:
                    p.upstream_eof = True
            if p.upstream in w and p.to_upstream:
                del p.to_upstream[:p.upstream.send(p.to_upstream)]
            if p.client in w and p.to_client:
                del p.to_client[:p.client.send(p.to_client)]
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            # one side failed: the other one is told the same way (reset for a reset)
            p.close(rst=e.errno in (errno.ECONNRESET, errno.EPIPE))
            return
        # pass a FIN on once everything before it went through
        if p.client_eof and not p.to_upstream and not p.upstream_write_shut:
            self._shut_write(p.upstream)
            p.upstream_write_shut = True
        if p.upstream_eof and not p.to_client and not p.client_write_shut:
            self._shut_write(p.client)
            p.client_write_shut = True
        if p.client_eof and p.upstream_eof and not p.to_client and not p.to_upstream:
            p.close()
        elif p.client_eof and p.client_write_shut and p.upstream_write_shut:
            # the client is gone and was told EOF: nothing it can still receive
            p.close()

    @staticmethod
    def _shut_write(sock):
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
