"""One fuzzing connection of fuzz_live.py: a valid handshake, then a random mix of valid and
mutated frames, until the broker closes it or the run ends."""
import os
import socket
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import rawamqp as ra  # noqa: E402
from rawamqp import bits, frame, long_, longlong, method_payload, short, shortstr  # noqa: E402
from fuzz_gen import KNOWN_METHODS  # noqa: E402

HOST = "127.0.0.1"


# ------------------------------------------------------------------ one fuzzing connection

class ConnDone(Exception):
    pass


class FuzzConn:
    def __init__(self, port, rnd, gen, stats, deadline):
        self.r = rnd
        self.g = gen
        self.stats = stats
        self.deadline = deadline
        self.c = ra.RawAMQP(HOST, port, timeout=5.0)
        self.c.handshake(heartbeat=0)
        self.sock = self.c.sock
        self.frame_max = self.c.frame_max or 131072
        self.open = set()
        self.tags = {}  # channel -> list of delivery tags seen
        self.ctags = {}  # channel -> consumer tags
        self.rbuf = b""
        self.closed = False
        # Hostility of this connection: gentle ones reach deep channel states (consumers,
        # unacked deliveries, transactions), hostile ones mostly exercise error paths.
        self.hostility = rnd.choice([0.0, 0.0, 0.02, 0.1, 0.5, 1.0])
        gen.hostility = self.hostility
        for ch in range(1, rnd.randint(1, 4) + 1):
            self.c.open_channel(ch)
            self.open.add(ch)

    # -- I/O
    def send(self, data):
        if self.closed:
            raise ConnDone()
        try:
            self.sock.sendall(data)
        except (OSError, socket.timeout):
            self.closed = True
            raise ConnDone()

    def drain(self):
        """Reads whatever the broker sent, without blocking, and reacts to closes."""
        self.sock.setblocking(False)
        try:
            while True:
                try:
                    chunk = self.sock.recv(1 << 20)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    self.closed = True
                    break
                if not chunk:
                    self.closed = True
                    break
                self.rbuf += chunk
        finally:
            try:
                self.sock.settimeout(5.0)
            except OSError:
                pass
        self.parse()
        if self.closed:
            raise ConnDone()

    def parse(self):
        while len(self.rbuf) >= 8:
            ftype, ch, size = struct.unpack(">BHI", self.rbuf[:7])
            if len(self.rbuf) < size + 8:
                return
            payload = self.rbuf[7:7 + size]
            self.rbuf = self.rbuf[8 + size:]
            if ftype != ra.FRAME_METHOD or size < 4:
                continue
            cm = struct.unpack(">HH", payload[:4])
            if cm == ra.CHANNEL_OPEN_OK:
                self.open.add(ch)
            elif cm == ra.CHANNEL_CLOSE_OK:
                self.open.discard(ch)
            elif cm == ra.CHANNEL_CLOSE:
                self.stats.inc("channel_close")
                self.stats.inc("ch:" + self._close_text(payload))
                self.open.discard(ch)
                if self.r.random() < 0.9:
                    self._send_quiet(frame(ra.FRAME_METHOD, ch, method_payload(20, 41)))
            elif cm == ra.CONNECTION_CLOSE:
                self.stats.inc("connection_close")
                self.stats.inc("conn:" + self._close_text(payload))
                if self.r.random() < 0.9:
                    self._send_quiet(frame(ra.FRAME_METHOD, 0, method_payload(10, 51)))
                self.closed = True
            elif cm == (60, 60):  # basic.deliver: consumer-tag, delivery-tag
                n = payload[4]
                tag = struct.unpack(">Q", payload[5 + n:13 + n])[0]
                self.tags.setdefault(ch, []).append(tag)
                self.stats.inc("delivered")
            elif cm == (60, 71):  # basic.get-ok
                tag = struct.unpack(">Q", payload[4:12])[0]
                self.tags.setdefault(ch, []).append(tag)
                self.stats.inc("got")
            elif cm == (60, 21):  # basic.consume-ok
                n = payload[4]
                self.ctags.setdefault(ch, []).append(payload[5:5 + n].decode("utf-8", "replace"))

    @staticmethod
    def _close_text(payload):
        try:
            n = payload[6]
            return payload[7:7 + n].decode("utf-8", "replace").split(" - ")[0]
        except IndexError:
            return "?"

    def _send_quiet(self, data):
        try:
            self.sock.sendall(data)
        except OSError:
            self.closed = True

    # -- helpers
    def channel(self):
        r = self.r.random()
        if self.open and r > 0.15 * self.hostility:
            return self.r.choice(sorted(self.open))
        if r < 0.1 * self.hostility + 0.9:
            return self.r.randint(1, 40)
        return self.r.choice([0, 65535, 2047, 2048, self.r.randint(0, 65535)])

    def method(self, ch, cm, args=b""):
        self.send(frame(ra.FRAME_METHOD, ch, method_payload(cm[0], cm[1], args)))

    def mutate(self, payload):
        """A random corruption of a method or header payload."""
        r = self.r
        p = bytearray(payload)
        k = r.randint(0, 6)
        if k == 0 and p:
            return bytes(p[:r.randint(0, len(p) - 1)])  # truncated
        if k == 1:
            return bytes(p) + r.randbytes(r.randint(1, 64))  # extended
        if k == 2 and p:
            for _ in range(r.randint(1, 4)):
                p[r.randrange(len(p))] = r.randint(0, 255)
            return bytes(p)
        if k == 3 and len(p) >= 4:
            cm = r.choice(KNOWN_METHODS)
            p[0:4] = struct.pack(">HH", *cm)  # the arguments of another method
            return bytes(p)
        if k == 4 and len(p) >= 4:
            p[0:4] = struct.pack(">HH", r.randint(0, 65535), r.randint(0, 65535))
            return bytes(p)
        if k == 5:
            return r.randbytes(r.randint(0, 80))
        return bytes(p)

    # -- actions
    def a_channel_open(self):
        if self.r.random() < 0.1 * self.hostility:
            ch = self.r.randint(0, 65535)
        else:
            ch = self.r.choice([c for c in range(1, 9) if c not in self.open] or [9])
        self.method(ch, ra.CHANNEL_OPEN, shortstr(""))

    def a_channel_close(self):
        ch = self.channel()
        if self.r.random() < 0.8:
            self.method(ch, ra.CHANNEL_CLOSE, short(200) + shortstr("bye") + short(0) + short(0))
        else:
            self.method(ch, ra.CHANNEL_CLOSE_OK)
        self.open.discard(ch)

    def a_channel_flicker(self):
        """Rapid open/close of one channel, without waiting for replies."""
        ch = self.r.randint(1, 60)
        buf = b""
        for _ in range(self.r.randint(1, 10)):
            buf += frame(ra.FRAME_METHOD, ch, method_payload(20, 10, shortstr("")))
            if self.r.random() < 0.5:
                buf += frame(ra.FRAME_METHOD, ch, method_payload(60, 10, long_(0) + short(
                    self.r.randint(0, 5)) + bits(self.r.random() < 0.5)))
            buf += frame(ra.FRAME_METHOD, ch, method_payload(
                20, 40, short(200) + shortstr("") + short(0) + short(0)))
        self.send(buf)

    def a_flow(self):
        self.method(self.channel(), (20, 20), bits(self.r.random() < 0.5))

    def a_queue_declare(self):
        g, r = self.g, self.r
        args = (short(0) + shortstr(g.queue()) +
                bits(r.random() < 0.1, r.random() < 0.2, r.random() < 0.2, r.random() < 0.3,
                     r.random() < 0.2) + g.queue_args())
        self.method(self.channel(), ra.QUEUE_DECLARE, args)

    def a_exchange_declare(self):
        g, r = self.g, self.r
        etype = r.choice(["direct", "fanout", "topic", "headers", "x-bogus",
                          "x-consistent-hash", ""])
        args = (short(0) + shortstr(g.exchange()) + shortstr(etype) +
                bits(r.random() < 0.1, r.random() < 0.2, r.random() < 0.3, r.random() < 0.1,
                     r.random() < 0.2) + g.queue_args())
        self.method(self.channel(), ra.EXCHANGE_DECLARE, args)

    def a_bind(self):
        g, r = self.g, self.r
        nowait = bits(r.random() < 0.2)
        if r.random() < 0.6:
            cm = r.choice([ra.QUEUE_BIND, (50, 50)])  # bind / unbind
            if cm == ra.QUEUE_BIND:
                args = short(0) + shortstr(g.queue()) + shortstr(g.exchange()) + shortstr(
                    g.key()) + nowait + g.table(known=["x-match", "a", "b"])
            else:
                args = short(0) + shortstr(g.queue()) + shortstr(g.exchange()) + shortstr(
                    g.key()) + g.table(known=["x-match", "a"])
        else:
            cm = r.choice([(40, 30), (40, 40)])  # exchange bind / unbind
            args = short(0) + shortstr(g.exchange()) + shortstr(g.exchange()) + shortstr(
                g.key()) + nowait + g.table(known=["x-match", "a"])
        self.method(self.channel(), cm, args)

    def a_delete(self):
        g, r = self.g, self.r
        k = r.randint(0, 2)
        if k == 0:
            self.method(self.channel(), ra.QUEUE_DELETE, short(0) + shortstr(g.queue()) + bits(
                r.random() < 0.2, r.random() < 0.2, r.random() < 0.2))
        elif k == 1:
            self.method(self.channel(), (50, 30), short(0) + shortstr(g.queue()) + bits(
                r.random() < 0.2))  # purge
        else:
            self.method(self.channel(), (40, 20), short(0) + shortstr(g.exchange()) + bits(
                r.random() < 0.2, r.random() < 0.2))

    def publish_frames(self, ch, body_len=None, mutate=False):
        g, r = self.g, self.r
        exchange = g.exchange() if r.random() < 0.5 else ""
        out = frame(ra.FRAME_METHOD, ch, method_payload(60, 40, short(0) + shortstr(exchange) +
                                                        shortstr(g.key()) +
                                                        bits(r.random() < 0.3, r.random() < 0.02)))
        if body_len is None:
            body_len = r.choice([0, 0, 1, 10, 100, 1000, r.randint(0, 70000)])
        flags, props = g.properties()
        header = struct.pack(">HHQH", 60, 0, body_len, flags) + props
        if mutate:
            header = self.mutate(header)
        out += frame(ra.FRAME_HEADER, ch, header)
        body = r.randbytes(body_len)
        step = max(1, min(self.frame_max - 8, r.choice([1, 7, 100, 4096, 131064])))
        for i in range(0, len(body), step):
            out += frame(ra.FRAME_BODY, ch, body[i:i + step])
        return out

    def a_publish(self):
        ch = self.channel()
        buf = b""
        for _ in range(self.r.choice([1, 1, 1, 5, 20])):
            buf += self.publish_frames(ch)
        self.send(buf)

    def a_publish_bad_content(self):
        """Content frames in odd orders, bodies too long/short, huge declared sizes."""
        r = self.r
        ch = self.channel()
        k = r.randint(0, 8)
        pub = frame(ra.FRAME_METHOD, ch, method_payload(60, 40, short(0) + shortstr("") +
                                                        shortstr(self.g.key()) + bits(0, 0)))
        if k == 0:  # header without publish
            self.send(frame(ra.FRAME_HEADER, ch, struct.pack(">HHQH", 60, 0, 5, 0)))
        elif k == 1:  # body without header
            self.send(pub + frame(ra.FRAME_BODY, ch, b"hello"))
        elif k == 2:  # huge declared body size
            size = r.choice([2 ** 63, 2 ** 64 - 1, 2 ** 40, 2 ** 31, 200 * 2 ** 20,
                             self.frame_max * 3])
            self.send(pub + frame(ra.FRAME_HEADER, ch, struct.pack(">HHQH", 60, 0, size, 0)) +
                      frame(ra.FRAME_BODY, ch, b"x" * r.randint(0, 100)))
        elif k == 3:  # body longer than declared
            self.send(pub + frame(ra.FRAME_HEADER, ch, struct.pack(">HHQH", 60, 0, 3, 0)) +
                      frame(ra.FRAME_BODY, ch, b"toolong"))
        elif k == 4:  # method in the middle of content
            self.send(pub + frame(ra.FRAME_HEADER, ch, struct.pack(">HHQH", 60, 0, 10, 0)) +
                      frame(ra.FRAME_BODY, ch, b"abc") + pub)
        elif k == 5:  # wrong class / weight / short header
            hdr = r.choice([struct.pack(">HHQH", r.randint(0, 100), 0, 1, 0),
                            struct.pack(">HHQH", 60, r.randint(1, 65535), 1, 0),
                            struct.pack(">HHQ", 60, 0, 1)[:r.randint(0, 11)]])
            self.send(pub + frame(ra.FRAME_HEADER, ch, hdr))
        elif k == 6:  # mutated header
            self.send(self.publish_frames(ch, body_len=r.randint(0, 50), mutate=True))
        elif k == 7:  # interleaved publishes on two channels
            ch2 = self.channel()
            a = self.publish_frames(ch, body_len=20)
            b = self.publish_frames(ch2, body_len=20)
            self.send(a[:len(a) // 2] + b + a[len(a) // 2:] if ch != ch2 else a + b)
        else:  # empty body frames
            self.send(pub + frame(ra.FRAME_HEADER, ch, struct.pack(">HHQH", 60, 0, 2, 0)) +
                      frame(ra.FRAME_BODY, ch, b"") * r.randint(1, 5) +
                      frame(ra.FRAME_BODY, ch, b"ab"))

    def a_consume(self):
        g, r = self.g, self.r
        tag = r.choice(["", "t1", "t2", g.junk_str(r.randint(0, 30))])
        args = g.table(known=["x-priority", "x-cancel-on-ha-failover", "x-stream-offset"])
        self.method(self.channel(), (60, 20), short(0) + shortstr(g.queue()) + shortstr(tag) +
                    bits(r.random() < 0.1, r.random() < 0.4, r.random() < 0.1,
                         r.random() < 0.2) + args)

    def a_cancel(self):
        ch = self.channel()
        tags = self.ctags.get(ch) or ["t1", "nope"]
        self.method(ch, (60, 30), shortstr(self.r.choice(tags)) + bits(self.r.random() < 0.3))

    def a_get(self):
        self.method(self.channel(), ra.BASIC_GET, short(0) + shortstr(self.g.queue()) +
                    bits(self.r.random() < 0.4))

    def a_settle(self):
        r = self.r
        ch = self.channel()
        seen = self.tags.get(ch)
        if seen and r.random() < 0.8:
            tag = r.choice(seen)
        else:
            tag = r.choice([0, 1, 2, 2 ** 64 - 1, r.randint(0, 1000)])
        k = r.randint(0, 2)
        if k == 0:
            self.method(ch, (60, 80), longlong(tag) + bits(r.random() < 0.3))
        elif k == 1:
            self.method(ch, (60, 120), longlong(tag) + bits(r.random() < 0.3, r.random() < 0.5))
        else:
            self.method(ch, (60, 90), longlong(tag) + bits(r.random() < 0.5))

    def a_misc(self):
        r = self.r
        ch = self.channel()
        k = r.randint(0, 7)
        if k == 0:
            self.method(ch, ra.BASIC_QOS, long_(r.choice([0, 0, 1])) +
                        short(r.choice([0, 1, 2, 10, 65535])) + bits(r.random() < 0.5))
        elif k == 1:
            self.method(ch, (85, 10), bits(r.random() < 0.3))  # confirm.select
        elif k == 2:
            self.method(ch, (90, 10))  # tx.select
        elif k == 3:
            self.method(ch, (90, 20))  # tx.commit
        elif k == 4:
            self.method(ch, (90, 30))  # tx.rollback
        elif k == 5:
            self.method(ch, (60, 110), bits(r.random() < 0.8))  # recover
        elif k == 6:
            self.method(ch, (60, 100), bits(True))  # recover-async
        else:
            self.method(ch, (30, 10), shortstr("/data") + bits(1, 0, 0, 1, 1))  # access.request

    def a_tx_cycle(self):
        """select, publish, ack seen tags, commit or rollback, close — without waiting."""
        r = self.r
        ch = self.channel()
        buf = frame(ra.FRAME_METHOD, ch, method_payload(90, 10))
        buf += self.publish_frames(ch, body_len=r.randint(0, 30))
        for tag in (self.tags.get(ch) or [])[-3:]:
            buf += frame(ra.FRAME_METHOD, ch, method_payload(60, 80, longlong(tag) + bits(0)))
        buf += frame(ra.FRAME_METHOD, ch, method_payload(90, r.choice([20, 30])))
        if r.random() < 0.5:
            buf += frame(ra.FRAME_METHOD, ch, method_payload(
                20, 40, short(200) + shortstr("") + short(0) + short(0)))
        self.send(buf)

    def a_random_method(self):
        r = self.r
        cm = r.choice(KNOWN_METHODS) if r.random() < 0.8 else (r.randint(0, 120),
                                                               r.randint(0, 130))
        self.method(self.channel(), cm, r.randbytes(r.randint(0, 60)))

    def a_mutated_valid(self):
        """A well-formed method, then corrupted."""
        g, r = self.g, self.r
        payloads = [
            method_payload(50, 10, short(0) + shortstr(g.queue()) + bits(0, 0, 0, 1, 0) +
                           g.queue_args()),
            method_payload(40, 10, short(0) + shortstr(g.exchange()) + shortstr("topic") +
                           bits(0, 0, 1, 0, 0) + g.table()),
            method_payload(60, 20, short(0) + shortstr(g.queue()) + shortstr("") +
                           bits(0, 0, 0, 0) + g.table()),
            method_payload(60, 40, short(0) + shortstr("") + shortstr(g.key()) + bits(0, 0)),
            method_payload(50, 20, short(0) + shortstr(g.queue()) + shortstr(g.exchange()) +
                           shortstr(g.key()) + bits(0) + g.table()),
            method_payload(20, 40, short(200) + shortstr("x") + short(0) + short(0)),
            method_payload(10, 50, short(200) + shortstr("x") + short(0) + short(0)),
        ]
        p = self.mutate(r.choice(payloads))
        ch = self.channel() if r.random() < 0.9 else 0
        self.send(frame(ra.FRAME_METHOD, ch, p))

    def a_bad_frame(self):
        """Framing errors: bad end byte, wrong size, unknown type, oversize frames."""
        r = self.r
        ch = self.channel()
        k = r.randint(0, 6)
        if k == 0:
            self.send(frame(ra.FRAME_METHOD, ch, method_payload(20, 10, shortstr("")),
                            end=r.randint(0, 0xCD)))
        elif k == 1:
            size = r.choice([0, 1, 3, 2 ** 32 - 1, self.frame_max + 1, self.frame_max - 7])
            self.send(struct.pack(">BHI", r.choice([1, 2, 3, 8]), ch, size) +
                      r.randbytes(r.randint(0, 64)))
        elif k == 2:
            self.send(frame(r.choice([0, 4, 9, 65, 206, 255]), ch, r.randbytes(r.randint(0, 20))))
        elif k == 3:
            self.send(frame(ra.FRAME_HEARTBEAT, ch, r.randbytes(r.randint(0, 3))))
        elif k == 4:
            self.send(frame(ra.FRAME_BODY, ch, b"x" * (self.frame_max + r.randint(-8, 8))))
        elif k == 5:
            self.send(r.randbytes(r.randint(1, 300)))
        else:
            self.send(ra.PROTOCOL_HEADER)

    def a_abort_mid_frame(self):
        """Closes the socket in the middle of a frame (sometimes with a RST)."""
        data = self.publish_frames(self.channel(), body_len=self.r.randint(0, 5000))
        cut = self.r.randint(1, len(data))
        try:
            self.sock.sendall(data[:cut])
            if self.r.random() < 0.5:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                     struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.closed = True
        self.sock.close()
        self.stats.inc("aborted")
        raise ConnDone()

    def a_connection_close(self):
        self.method(0, ra.CONNECTION_CLOSE, short(200) + shortstr("") + short(0) + short(0))

    HOSTILE = {"a_publish_bad_content", "a_random_method", "a_mutated_valid", "a_bad_frame",
               "a_abort_mid_frame"}

    ACTIONS = [
        ("a_channel_open", 10), ("a_channel_close", 3), ("a_channel_flicker", 3),
        ("a_flow", 1), ("a_queue_declare", 8), ("a_exchange_declare", 4), ("a_bind", 6),
        ("a_delete", 3), ("a_publish", 14), ("a_publish_bad_content", 2), ("a_consume", 6),
        ("a_cancel", 2), ("a_get", 5), ("a_settle", 8), ("a_misc", 6), ("a_tx_cycle", 2),
        ("a_random_method", 2), ("a_mutated_valid", 3), ("a_bad_frame", 1),
        ("a_abort_mid_frame", 1), ("a_connection_close", 0.3),
    ]

    def run(self, max_actions):
        names = [n for n, _ in self.ACTIONS]
        weights = [w * self.hostility if n in self.HOSTILE else w for n, w in self.ACTIONS]
        try:
            for _ in range(max_actions):
                if time.monotonic() > self.deadline:
                    break
                name = self.r.choices(names, weights)[0]
                self.stats.inc(name)
                getattr(self, name)()
                self.drain()
                if self.r.random() < 0.05:
                    time.sleep(0.005)
        except ConnDone:
            pass
        finally:
            if not self.closed and self.r.random() < 0.5:
                self.c.close()
            try:
                self.sock.close()
            except OSError:
                pass
