"""Random AMQP values and frames for fuzz_live.py (valid ones, mutated ones)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import rawamqp as ra  # noqa: E402
from rawamqp import long_, longlong, octet, short, shortstr, longstr  # noqa: E402


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
