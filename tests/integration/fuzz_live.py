#!/usr/bin/python3
"""Bounded live fuzzer for a running broker (pulsed or RabbitMQ).

Many raw clients do a valid handshake and then send a random mix of valid and mutated
frames: random channel ids, truncated / extended / bit-flipped payloads, random method ids,
content frames out of order, huge declared sizes, random field tables, rapid channel
open/close, consumers and acks with random tags, publishes to random queues/exchanges, and
abrupt socket closes mid-frame. Meanwhile one well-behaved pika client publishes (with
confirms) and consumes on its own queue and must receive every message it published.

At the end the broker must accept a new connection and do a full round trip. When this
script starts pulsed itself (no --port), it also scans the broker log for sanitizer reports.

    /usr/bin/python3 tests/integration/fuzz_live.py --seconds 60 --seed 1
    /usr/bin/python3 tests/integration/fuzz_live.py --port 5672 --seconds 30   # running broker

Traffic goes to 127.0.0.1 only and is bounded by --seconds and --max-connections.
"""
import argparse
import os
import random
import socket
import struct
import sys
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import pika  # noqa: E402

import rawamqp as ra  # noqa: E402
from rawamqp import (bits, frame, long_, longlong, method_payload, octet, short,  # noqa: E402
                     shortstr, longstr)

HOST = "127.0.0.1"
SANITIZER_PATTERNS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer",
                      "ERROR: ThreadSanitizer", "AddressSanitizer:DEADLYSIGNAL")

# Every (class, method) pair of AMQP 0-9-1, so random picks are mostly "real" methods.
KNOWN_METHODS = [
    (10, 10), (10, 11), (10, 20), (10, 21), (10, 30), (10, 31), (10, 40), (10, 41), (10, 50),
    (10, 51), (10, 60), (10, 61), (20, 10), (20, 11), (20, 20), (20, 21), (20, 40), (20, 41),
    (30, 10), (30, 11), (40, 10), (40, 11), (40, 20), (40, 21), (40, 30), (40, 31), (40, 40),
    (40, 51), (50, 10), (50, 11), (50, 20), (50, 21), (50, 30), (50, 31), (50, 40), (50, 41),
    (50, 50), (50, 51), (60, 10), (60, 11), (60, 20), (60, 21), (60, 30), (60, 31), (60, 40),
    (60, 50), (60, 60), (60, 70), (60, 71), (60, 72), (60, 80), (60, 90), (60, 100), (60, 110),
    (60, 111), (60, 120), (85, 10), (85, 11), (90, 10), (90, 11), (90, 20), (90, 21), (90, 30),
    (90, 31),
]


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}

    def inc(self, key, n=1):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + n

    def summary(self):
        with self.lock:
            return ", ".join("%s=%d" % kv for kv in sorted(self.counts.items()))


# ------------------------------------------------------------------ random values

class Gen:
    """Random AMQP values. Names come from small pools so that clients collide on them."""

    def __init__(self, rnd, run_id):
        self.r = rnd
        self.run = run_id
        self.hostility = 0.0  # scales the chance of malformed encodings (0 = always valid)

    def bad(self, p):
        return self.r.random() < p * self.hostility

    def queue(self):
        r = self.r.random()
        if r < 0.05:
            return ""
        if r < 0.08:
            return "amq.rabbitmq.reply-to"
        if r < 0.1 and self.hostility:
            return self.junk_str(self.r.randint(0, 255))
        return "fz.%s.q%d" % (self.run, self.r.randint(0, 11))

    def exchange(self):
        r = self.r.random()
        if r < 0.15:
            return ""
        if r < 0.25:
            return self.r.choice(["amq.direct", "amq.fanout", "amq.topic", "amq.headers",
                                  "amq.match", "amq.rabbitmq.trace", "amq.default"])
        if r < 0.28:
            return self.junk_str(self.r.randint(0, 255))
        return "fz.%s.x%d" % (self.run, self.r.randint(0, 7))

    def key(self):
        r = self.r.random()
        if r < 0.6:
            return "fz.%s.q%d" % (self.run, self.r.randint(0, 11))
        if r < 0.65:
            return "amq.rabbitmq.reply-to." + self.junk_str(self.r.randint(0, 40))
        if r < 0.8:
            return self.r.choice(["#", "*", "a.b.c", "a.*.c", "#.c", "", "a..b", "*.#.*"])
        return self.junk_str(self.r.randint(0, 255))

    def junk_str(self, n):
        alphabet = "ab.*#-_%\x00\xff/\u00e9"
        s = "".join(self.r.choice(alphabet) for _ in range(n))
        b = s.encode("utf-8", "surrogatepass")[:255]
        return b.decode("utf-8", "ignore")

    def small_int(self):
        return self.r.choice([0, 1, 2, 5, 10, 100, 1000, -1, 2 ** 31 - 1, -2 ** 31,
                              2 ** 32, 2 ** 62, -2 ** 63, 2 ** 63 - 1])

    def field_value(self, depth=0):
        """Encoded field value (type byte + data); occasionally malformed."""
        r = self.r
        t = r.choice("tbBsuIiLlfdDSTFAVx" + ("FA" if depth < 3 else ""))
        if self.bad(0.02):
            t = chr(r.randint(0, 255))
            return t.encode("latin-1") + r.randbytes(r.randint(0, 9))
        if t == "t":
            return b"t" + octet(r.randint(0, 2))
        if t in "bB":
            return t.encode() + octet(r.randint(0, 255))
        if t in "su":
            return t.encode() + short(r.randint(0, 65535))
        if t in "Ii":
            return t.encode() + long_(r.randint(0, 2 ** 32 - 1))
        if t in "Ll":
            return t.encode() + longlong(r.randint(0, 2 ** 64 - 1))
        if t == "T":
            return b"T" + longlong(r.choice([0, 2 ** 64 - 1, r.randint(0, 2 ** 64 - 1)]))
        if t == "f":
            return b"f" + r.randbytes(4)
        if t == "d":
            return b"d" + r.randbytes(8)
        if t == "D":
            return b"D" + octet(r.randint(0, 255)) + long_(r.randint(0, 2 ** 32 - 1))
        if t in "Sx":
            return t.encode() + longstr(r.randbytes(r.randint(0, 40)))
        if t == "V":
            return b"V"
        if t == "F":
            return b"F" + self.table(depth + 1)
        if t == "A":
            body = b"".join(self.field_value(depth + 1) for _ in range(r.randint(0, 4)))
            return b"A" + self.maybe_bad_len(len(body)) + body
        return b"V"

    def maybe_bad_len(self, n):
        if self.bad(0.03):
            return long_(self.r.choice([n + 1, max(0, n - 1), 2 ** 32 - 1, 2 ** 31]))
        return long_(n)

    def table(self, depth=0, known=None):
        r = self.r
        parts = []
        for _ in range(r.randint(0, 4)):
            if known and r.random() < 0.7:
                k = r.choice(known)
            else:
                k = self.junk_str(r.randint(0, 12))
            kb = k.encode("utf-8")[:255]
            parts.append(octet(len(kb)) + kb + self.field_value(depth))
        body = b"".join(parts)
        return self.maybe_bad_len(len(body)) + body

    def queue_args(self):
        """A field table of mostly meaningful x-args with sometimes-wrong values."""
        r = self.r
        keys = ["x-message-ttl", "x-expires", "x-max-length", "x-max-length-bytes",
                "x-dead-letter-exchange", "x-dead-letter-routing-key", "x-max-priority",
                "x-overflow", "x-queue-type", "x-single-active-consumer", "x-delivery-limit",
                "x-queue-mode", "x-queue-master-locator", "alternate-exchange", "x-match",
                "x-priority", "x-cancel-on-ha-failover"]
        if r.random() < 0.3:
            return self.table(known=keys)
        items = []
        for _ in range(r.randint(0, 4)):
            k = r.choice(keys)
            if k in ("x-dead-letter-exchange", "alternate-exchange"):
                v = ra.field_value(self.exchange())
            elif k == "x-dead-letter-routing-key":
                v = ra.field_value(self.key())
            elif k == "x-overflow":
                v = ra.field_value(r.choice(["drop-head", "reject-publish", "reject-publish-dlx",
                                             "bogus"]))
            elif k == "x-queue-type":
                v = ra.field_value(r.choice(["classic", "quorum", "stream", "x"]))
            elif k == "x-match":
                v = ra.field_value(r.choice(["all", "any", "all-with-x", "any-with-x", "no"]))
            elif k == "x-single-active-consumer":
                v = ra.field_value(r.random() < 0.5)
            elif k in ("x-message-ttl", "x-expires"):
                v = ra.field_value(r.choice([0, 1, 5, 50, 1000, 2 ** 31 - 1, 2 ** 62,
                                             2 ** 63 - 1]))
            else:
                v = ra.field_value(self.small_int())
            kb = k.encode()
            items.append(octet(len(kb)) + kb + v)
        body = b"".join(items)
        return long_(len(body)) + body

    def properties(self):
        """(flags, encoded property list) of a content header, sometimes malformed."""
        r = self.r
        flags = 0
        out = b""
        # Property order: content-type, content-encoding, headers, delivery-mode, priority,
        # correlation-id, reply-to, expiration, message-id, timestamp, type, user-id, app-id.
        if r.random() < 0.3:
            flags |= 1 << 15
            out += shortstr(r.choice(["text/plain", "application/json", ""]))
        if r.random() < 0.1:
            flags |= 1 << 14
            out += shortstr("gzip")
        if r.random() < 0.4:
            flags |= 1 << 13
            if r.random() < 0.5:
                hdr = self.table(known=["CC", "BCC", "x-death", "x-first-death-queue",
                                        "x-delivery-count", "x-match", "a", "b"])
            else:
                parts = []
                for h in r.sample(["CC", "BCC", "x-death"], r.randint(1, 3)):
                    if h == "x-death" or r.random() < 0.2:
                        v = self.field_value()
                    else:
                        v = ra.field_value([self.key() for _ in range(r.randint(0, 3))])
                    hb = h.encode()
                    parts.append(octet(len(hb)) + hb + v)
                body = b"".join(parts)
                hdr = long_(len(body)) + body
            out += hdr
        if r.random() < 0.3:
            flags |= 1 << 12
            out += octet(r.choice([1, 2, 0, 255]))
        if r.random() < 0.3:
            flags |= 1 << 11
            out += octet(r.choice([0, 1, 5, 9, 10, 255]))
        if r.random() < 0.1:
            flags |= 1 << 10
            out += shortstr("corr")
        if r.random() < 0.15:
            flags |= 1 << 9
            out += shortstr(r.choice(["amq.rabbitmq.reply-to", self.key()]))
        if r.random() < 0.3:
            flags |= 1 << 8
            out += shortstr(r.choice(["0", "1", "100", "-1", "-0", "abc", "", "+5",
                                      "9223372036854775807", "99999999999999999999",
                                      "18446744073709551615", "4294967296", "1e3"]))
        if r.random() < 0.1:
            flags |= 1 << 7
            out += shortstr("mid")
        if r.random() < 0.1:
            flags |= 1 << 6
            out += longlong(r.randint(0, 2 ** 64 - 1))
        if r.random() < 0.05:
            flags |= 1 << 4
            out += shortstr(r.choice(["guest", "other"]))
        if self.bad(0.05):
            flags = r.randint(0, 65535)  # random flags with mismatched data
        if self.bad(0.03):
            out = out[:r.randint(0, len(out))]
        return flags, out


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


# ------------------------------------------------------------------ the well-behaved client

class GoodClient(threading.Thread):
    """Publishes with confirms and consumes on its own queue; must lose nothing."""

    def __init__(self, port, deadline, stats, seed):
        super().__init__(daemon=True)
        self.port = port
        self.deadline = deadline
        self.stats = stats
        self.queue = "fz.good.%s" % uuid.uuid4().hex[:8]
        self.published = []
        self.received = []
        self.error = None
        self.r = random.Random(seed)

    def run(self):
        try:
            self._run()
        except Exception as e:  # noqa: BLE001 - reported by the caller
            self.error = "%s: %s" % (type(e).__name__, e)

    def _run(self):
        params = pika.ConnectionParameters(
            host=HOST, port=self.port, credentials=pika.PlainCredentials("guest", "guest"),
            connection_attempts=1, socket_timeout=10, heartbeat=0,
            blocked_connection_timeout=None)
        conn = pika.BlockingConnection(params)
        try:
            pub = conn.channel()
            pub.confirm_delivery()
            con = conn.channel()
            con.queue_declare(self.queue, exclusive=True)
            con.basic_qos(prefetch_count=50)
            seq = 0
            while time.monotonic() < self.deadline:
                batch = self.r.randint(1, 30)
                for _ in range(batch):
                    seq += 1
                    body = b"good-%d-" % seq + self.r.randbytes(self.r.choice([0, 10, 3000]))
                    # confirm_delivery: raises if the broker nacks or returns it.
                    pub.basic_publish("", self.queue, body, mandatory=True)
                    self.published.append(body)
                want = len(self.published)
                t_end = time.monotonic() + 10
                for method, _props, body in con.consume(self.queue, inactivity_timeout=1):
                    if method is not None:
                        self.received.append(body)
                        if self.r.random() < 0.5 or len(self.received) == want:
                            con.basic_ack(method.delivery_tag, multiple=True)
                    if len(self.received) >= want or time.monotonic() > t_end:
                        break
                con.cancel()
                if len(self.received) < want:
                    raise AssertionError("good client: received %d of %d within 10 s"
                                         % (len(self.received), want))
                self.stats.inc("good_roundtrips")
                time.sleep(self.r.random() * 0.05)
        finally:
            try:
                conn.close()
            except Exception:  # noqa: BLE001
                pass


# ------------------------------------------------------------------ driver

def scan_log(path):
    hits = []
    try:
        with open(path, errors="replace") as f:
            lines = f.readlines()
    except OSError:
        return hits
    for i, line in enumerate(lines):
        if any(p in line for p in SANITIZER_PATTERNS):
            hits.append("".join(lines[i:i + 40]))
    return hits


def worker(port, seed, deadline, stats, run_id, budget, errors, broker_alive):
    rnd = random.Random(seed)
    gen = Gen(rnd, run_id)
    failures_in_row = 0
    while time.monotonic() < deadline and budget.take():
        try:
            fc = FuzzConn(port, rnd, gen, stats, deadline)
        except (OSError, ra.ConnectionClosed, AssertionError, socket.timeout, ValueError) as e:
            stats.inc("connect_fail")
            errors.append("connect: %r" % (e,))
            # A few failures under load are tolerable; many in a row mean a dead broker.
            failures_in_row += 1
            if failures_in_row >= 20 or not broker_alive():
                return
            time.sleep(0.05)
            continue
        failures_in_row = 0
        stats.inc("connections")
        fc.run(rnd.randint(5, 300))


class Budget:
    def __init__(self, n):
        self.n = n
        self.lock = threading.Lock()

    def take(self):
        with self.lock:
            if self.n <= 0:
                return False
            self.n -= 1
            return True


def run_fuzz(port, seconds, seed, clients=8, max_connections=5000, log=print,
             broker_alive=lambda: True):
    """Runs the fuzzer against 127.0.0.1:port. Returns a list of problems (empty = pass)."""
    problems = []
    stats = Stats()
    run_id = "%d%s" % (seed, uuid.uuid4().hex[:4])
    deadline = time.monotonic() + seconds
    budget = Budget(max_connections)
    errors = []
    good = GoodClient(port, deadline, stats, seed)
    good.start()
    threads = [threading.Thread(target=worker, daemon=True,
                                args=(port, seed * 1000 + i, deadline, stats, run_id, budget,
                                      errors, broker_alive))
               for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 60)
    good.join(60)
    log("fuzz seed=%d: %s" % (seed, stats.summary()))
    if good.is_alive():
        problems.append("good client did not finish")
    if good.error:
        problems.append("good client failed: %s" % good.error)
    if len(good.received) != len(good.published) or sorted(good.received) != sorted(
            good.published):
        problems.append("good client lost messages: published %d, received %d"
                        % (len(good.published), len(good.received)))
    elif not good.published:
        problems.append("good client published nothing")
    if not broker_alive():
        problems.append("broker process died")
        return problems
    if stats.counts.get("connections", 0) == 0:
        problems.append("no fuzz connection succeeded: %s" % errors[:3])
    try:
        ra.check_broker_healthy(HOST, port, tag="after-fuzz")
    except Exception as e:  # noqa: BLE001
        problems.append("broker unhealthy after fuzzing: %r" % (e,))
    return problems


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--port", type=int, default=None,
                    help="fuzz a broker already listening on 127.0.0.1:PORT; "
                         "default: start pulsed ($PULSED_BIN) privately")
    ap.add_argument("--clients", type=int, default=8, help="concurrent raw fuzz clients")
    ap.add_argument("--max-connections", type=int, default=5000)
    ap.add_argument("--config", action="append", default=[],
                    help="extra broker config key=value (own broker only)")
    opts = ap.parse_args(argv)
    seed = opts.seed if opts.seed is not None else random.randrange(1 << 30)
    print("seed %d" % seed, flush=True)

    # Sanitizer reports with stacks, and the first UB stops pulsed so it cannot go unnoticed.
    os.environ.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    broker = None
    port = opts.port
    if port is None:
        from harness.broker import make_broker
        config = dict(kv.split("=", 1) for kv in opts.config)
        config = {k.strip(): v.strip() for k, v in config.items()}
        broker = make_broker(config).start()
        port = broker.port
        print("broker log: %s" % broker.log_path, flush=True)

    def alive():
        return broker is None or broker.proc.poll() is None

    problems = run_fuzz(port, opts.seconds, seed, clients=opts.clients,
                        max_connections=opts.max_connections, broker_alive=alive)
    if broker is not None:
        os.environ["PULSE_TEST_KEEP_TMP"] = "1"  # keep the log for the scan below
        try:
            broker.stop()
        except Exception as e:  # noqa: BLE001
            problems.append("broker stop: %s" % (e,))
        if broker.target == "pulsed":
            for hit in scan_log(broker.log_path):
                problems.append("sanitizer report in %s:\n%s" % (broker.log_path, hit))
    if problems:
        print("FAIL (seed %d)" % seed)
        for p in problems:
            print(" - " + p)
        return 1
    print("OK (seed %d)" % seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
