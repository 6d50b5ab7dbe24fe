"""What every stream of the soak published and received, and the end checks on it.

A stream is one publisher/consumer pair on one queue. Publishers record each id's outcome
(confirmed, nacked, unknown because the connection died first); consumers record each delivery
with its redelivered flag and the time. The checks: every confirmed id was received (nothing
lost), and every id received more than once is explained by a redelivery (the flag), by its
publisher sending it twice (after a nack or a lost connection) or by a broker crash between the
two copies (the delivery mark and the ack of a message are hints that a kill -9 may lose).
"""
import threading
import time


class Stream:
    def __init__(self, name):
        self.name = name
        self.lock = threading.Lock()
        self.published = 0  # publish attempts, republishes included
        self.confirmed = set()
        self.nacked = 0
        self.unknown = 0  # attempts whose outcome the publisher never learnt
        self.republished = set()  # ids sent more than once
        self.received = {}  # id -> [times received]
        self.redelivered = set()  # ids received at least once with the redelivered flag
        self.rejected = 0  # deliveries the consumer gave back on purpose (requeue)

    # -- publishers -------------------------------------------------------
    def sent(self, mid, again=False):
        with self.lock:
            self.published += 1
            if again:
                self.republished.add(mid)

    def confirm(self, mid):
        with self.lock:
            self.confirmed.add(mid)

    def nack(self, mid):
        with self.lock:
            self.nacked += 1

    def lost_outcome(self, mid):
        with self.lock:
            self.unknown += 1

    # -- consumers --------------------------------------------------------
    def receive(self, mid, redelivered):
        now = time.monotonic()
        with self.lock:
            self.received.setdefault(mid, []).append(now)
            if redelivered:
                self.redelivered.add(mid)

    def reject(self):
        with self.lock:
            self.rejected += 1

    def missing(self):
        with self.lock:
            return len(self.confirmed - self.received.keys())

    # -- end --------------------------------------------------------------
    def check(self, crash_times):
        """Returns (report dict, list of failures)."""
        with self.lock:
            lost = sorted(self.confirmed - self.received.keys())
            dup_flag = dup_republished = dup_crash = 0
            unexplained = []
            copies = 0
            for mid, times in self.received.items():
                if len(times) < 2:
                    continue
                copies += len(times) - 1
                if mid in self.redelivered:
                    dup_flag += 1
                elif mid in self.republished:
                    dup_republished += 1
                elif any(times[0] < t < times[-1] for t in crash_times):
                    dup_crash += 1
                else:
                    unexplained.append(mid)
            rep = {
                "stream": self.name,
                "published": self.published,
                "confirmed": len(self.confirmed),
                "nacked": self.nacked,
                "unknown": self.unknown,
                "received": len(self.received),
                "extra copies": copies,
                "dups (redelivered flag)": dup_flag,
                "dups (published twice)": dup_republished,
                "dups (across a kill -9)": dup_crash,
                "rejected (requeued)": self.rejected,
                "lost": len(lost),
                "unexplained dups": len(unexplained),
            }
        failures = []
        if lost:
            failures.append("%s: %d confirmed messages never received, e.g. %s"
                            % (self.name, len(lost), lost[:10]))
        if unexplained:
            failures.append("%s: %d ids received twice without a redelivery, republish or crash"
                            " between them, e.g. %s" % (self.name, len(unexplained),
                                                        sorted(unexplained)[:10]))
        if not self.confirmed:
            failures.append("%s: nothing was confirmed" % self.name)
        return rep, failures
