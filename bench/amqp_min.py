"""The smallest AMQP 0-9-1 client the benchmark needs (standard library only): log in,
declare (or probe) a queue, basic.get. Used to tell when a broker is ready, to pre-declare
the queues that pulse-perf must fill and leave behind, and to time a restart up to the first
message a client can fetch."""
import socket
import struct


class AmqpError(Exception):
    def __init__(self, code, text):
        super().__init__("%s %s" % (code, text))
        self.code = code
        self.text = text


def _shortstr(s):
    b = s.encode()
    return struct.pack("B", len(b)) + b


def _longstr(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">I", len(b)) + b


class Client:
    def __init__(self, host, port, user="guest", password="guest", vhost="/", timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.sock.sendall(b"AMQP\x00\x00\x09\x01")
        self._expect(0, 10, 10)  # connection.start
        args = (struct.pack(">I", 0) + _shortstr("PLAIN")
                + _longstr("\0%s\0%s" % (user, password)) + _shortstr("en_US"))
        self._send_method(0, 10, 11, args)
        tune = self._expect(0, 10, 30)
        channel_max, frame_max, _hb = struct.unpack(">HIH", tune[:8])
        self._send_method(0, 10, 31, struct.pack(">HIH", channel_max, frame_max, 0))
        self._send_method(0, 10, 40, _shortstr(vhost) + _shortstr("") + b"\x00")
        self._expect(0, 10, 41)
        self._send_method(1, 20, 10, _shortstr(""))
        self._expect(1, 20, 11)

    # -- framing ------------------------------------------------------------
    def _send_method(self, channel, cls, method, args=b""):
        payload = struct.pack(">HH", cls, method) + args
        self.sock.sendall(struct.pack(">BHI", 1, channel, len(payload)) + payload + b"\xce")

    def _read_frame(self):
        while True:
            if len(self.buf) >= 7:
                ftype, channel, size = struct.unpack(">BHI", self.buf[:7])
                if len(self.buf) >= size + 8:
                    payload = self.buf[7:7 + size]
                    self.buf = self.buf[size + 8:]
                    return ftype, channel, payload
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed by the broker")
            self.buf += chunk

    def _expect(self, channel, cls, method):
        """Returns the arguments of the next method frame, which must be cls.method (or a
        close, raised as AmqpError). Heartbeats and other channels' frames are skipped."""
        while True:
            ftype, ch, payload = self._read_frame()
            if ftype != 1:
                continue
            c, m = struct.unpack(">HH", payload[:4])
            args = payload[4:]
            if (c, m) in ((10, 50), (20, 40)):
                code = struct.unpack(">H", args[:2])[0]
                text = args[3:3 + args[2]].decode(errors="replace")
                raise AmqpError(code, text)
            if ch == channel and (c, m) == (cls, method):
                return args
            if ch == channel and c == cls:
                return (m, args)

    # -- methods --------------------------------------------------------------
    def queue_declare(self, name, durable=False, passive=False):
        """Returns (message_count, consumer_count)."""
        bits = (1 if passive else 0) | (2 if durable else 0)
        self._send_method(1, 50, 10, struct.pack(">H", 0) + _shortstr(name)
                          + struct.pack("B", bits) + struct.pack(">I", 0))
        args = self._expect(1, 50, 11)
        n = args[0]
        return struct.unpack(">II", args[1 + n:9 + n])

    def queue_delete(self, name):
        self._send_method(1, 50, 40, struct.pack(">H", 0) + _shortstr(name) + b"\x00")
        self._expect(1, 50, 41)

    def basic_get(self, queue, no_ack=True):
        """True if a message was fetched (its header and body frames are consumed too)."""
        self._send_method(1, 60, 70, struct.pack(">H", 0) + _shortstr(queue)
                          + struct.pack("B", 1 if no_ack else 0))
        reply = self._expect(1, 60, 71)
        if isinstance(reply, tuple):  # get-empty
            return False
        ftype, _ch, header = self._read_frame()
        assert ftype == 2, ftype
        size = struct.unpack(">Q", header[4:12])[0]
        got = 0
        while got < size:
            ftype, _ch, body = self._read_frame()
            got += len(body)
        return True

    def close(self):
        try:
            self._send_method(0, 10, 50, struct.pack(">H", 200) + _shortstr("bye")
                              + struct.pack(">HH", 0, 0))
            self._expect(0, 10, 51)
        except (OSError, AmqpError, ConnectionError):
            pass
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
