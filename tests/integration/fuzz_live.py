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
import sys
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import pika  # noqa: E402

import rawamqp as ra  # noqa: E402
from fuzz_conn import HOST, FuzzConn  # noqa: E402
from fuzz_gen import Gen  # noqa: E402

SANITIZER_PATTERNS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer",
                      "ERROR: ThreadSanitizer", "AddressSanitizer:DEADLYSIGNAL")


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
