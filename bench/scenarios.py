"""The benchmark's scenarios. Each one drives a started broker with pulse-perf (or the minimal
client) and records figures in the run's Results: value, and for message rates the broker's
CPU time per message (utime+stime of its process tree over the pulse-perf run, divided by the
messages consumed, or published where nothing consumes)."""
import json
import os
import signal
import subprocess
import time

import brokers

KiB, MiB = 1024, 1024 * 1024


class PerfFailed(Exception):
    def __init__(self, text, summary=None):
        super().__init__(text)
        self.summary = summary


class Results:
    """figures[key] = {"label", "unit", "better", "values": {broker: [..]}, "cpu": {broker: [..]}}"""

    def __init__(self):
        self.figures = {}  # in the order first recorded
        self.errors = []
        self.notes = []  # figures that could not be measured, and why (not failures)

    def record(self, key, label, unit, better, broker, value, cpu_us=None):
        f = self.figures.setdefault(key, {"label": label, "unit": unit, "better": better,
                                          "values": {}, "cpu": {}})
        f["values"].setdefault(broker, []).append(value)
        if cpu_us is not None:
            f["cpu"].setdefault(broker, []).append(cpu_us)

    def note(self, text):
        if text not in self.notes:
            self.notes.append(text)

    def error(self, where, text):
        self.errors.append("%s: %s" % (where, text.strip()[-1500:]))


class Context:
    def __init__(self, perf_bin, sink_bin, quick, results, log):
        self.perf_bin = perf_bin
        self.sink_bin = sink_bin
        self.quick = quick
        self.results = results
        self.log = log
        self.seconds = 2 if quick else 8
        self.max_rate = {}  # broker -> scenario 1's consumed rate in this round

    def perf(self, uri, args, timeout=None):
        cmd = [self.perf_bin, "--uri", uri, "--json"] + [str(a) for a in args]
        self.log("    $ pulse-perf " + " ".join(str(a) for a in args))
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout or (self.seconds * 6 + 120))
        try:
            summary = json.loads(p.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            raise PerfFailed("rc=%d, no JSON summary\n%s" % (p.returncode, p.stderr[-1500:]))
        if p.returncode != 0 or not summary.get("ok"):
            raise PerfFailed("rc=%d errors=%s lost=%s dup=%s impossible=%s received=%s\n%s" % (
                p.returncode, summary.get("errors"), summary.get("lost"),
                summary.get("duplicated"), summary.get("impossible"), summary.get("received"),
                p.stderr[-800:]), summary)
        return summary


def _rate_run(ctx, b, key, label, args, rate_key="received_rate", basis="received", uri=None):
    """One pulse-perf load run: records its rate and the broker CPU per message."""
    cpu0 = b.cpu()
    try:
        s = ctx.perf(uri or b.uri(), args)
    except PerfFailed as e:
        # An overloaded broker that is slow to confirm the last publishes or to answer a
        # producer's connection.close (RabbitMQ's flow control lets publishers without confirms
        # run far ahead of its queues) fails the run, but the rate up to then is still a
        # measurement: record it, and the failure beside it. (The close timeout aborts the
        # drain, so the messages not yet consumed count as "lost" there.)
        s = e.summary
        benign = ("publishes never confirmed", "timed out waiting for connection.close-ok")
        if (not s or s["duplicated"] or s["impossible"] or not s[basis]
                or not all(any(t in err for t in benign) for err in s["errors"])):
            raise
        ctx.results.error("%s %s (rate recorded anyway)" % (key, b.name), str(e))
    cpu = b.cpu() - cpu0
    n = s[basis]
    cpu_us = cpu * 1e6 / n if n else None
    ctx.results.record(key, label, "msg/s", "higher", b.name, s[rate_key], cpu_us)
    ctx.log("    %s: %.0f msg/s, broker %.2f µs/msg, client %.2f µs/msg"
            % (b.name, s[rate_key], cpu_us or 0, s["cpu_us_per_msg"]))
    return s


def s1(ctx, b):
    s = _rate_run(ctx, b, "1", "1 · 1P/1C, 16 B, transient, auto-ack: consumed",
                  ["-x1", "-y1", "-s16", "-a", "-z", ctx.seconds])
    ctx.max_rate[b.name] = s["received_rate"]


def s2(ctx, b):
    _rate_run(ctx, b, "2", "2 · 1P/1C, 1 KiB, manual multi-ack (every 100), prefetch 1000: consumed",
              ["-x1", "-y1", "-s1024", "-q1000", "-A100", "-z", ctx.seconds])


def s3(ctx, b):
    _rate_run(ctx, b, "3", "3 · 1P/1C, 1 KiB persistent, durable queue, confirms (1000 in flight): "
              "confirmed", ["-x1", "-y1", "-s1024", "-p", "-c1000", "-q1000", "-A100",
                            "-z", ctx.seconds], rate_key="confirmed_rate", basis="confirmed")


NO_AMQPS = "pulsed: n/a (no AMQPS listener in this build)"


def _tls_ready(ctx, b):
    """Whether `b` has an AMQPS listener; pulsed builds without one get a note, not a failure."""
    if b.tls_port:
        return True
    ctx.results.note(NO_AMQPS)
    ctx.log("    " + NO_AMQPS)
    return False


def s1_tls(ctx, b):
    """Scenario 1 over AMQPS, with confirms (1000 in flight) bounding the backlog: without
    them RabbitMQ over TLS took publishes ~100x faster than it delivered them (490k vs 1.6k
    msg/s), so the drain after the run did not end within minutes (as in scenario 5)."""
    if _tls_ready(ctx, b):
        _rate_run(ctx, b, "1.tls", "1 · over TLS (AMQPS): 1P/1C, 16 B, transient, auto-ack, "
                  "confirms (1000 in flight): consumed",
                  ["-x1", "-y1", "-s16", "-a", "-c1000", "-z", ctx.seconds], uri=b.tls_uri())


def s3_tls(ctx, b):
    if _tls_ready(ctx, b):
        _rate_run(ctx, b, "3.tls", "3 · over TLS (AMQPS): 1P/1C, 1 KiB persistent, durable "
                  "queue, confirms (1000 in flight): confirmed",
                  ["-x1", "-y1", "-s1024", "-p", "-c1000", "-q1000", "-A100", "-z", ctx.seconds],
                  rate_key="confirmed_rate", basis="confirmed", uri=b.tls_uri())


def s4(ctx, b):
    _rate_run(ctx, b, "4", "4 · 4P/4C/4 queues, 16 B, auto-ack: consumed",
              ["-x4", "-y4", "--queues", 4, "--spread", "-s16", "-a", "-z", ctx.seconds])


def s5(ctx, b):
    for n in (10, 100):
        _rate_run(ctx, b, "5.%d" % n, "5 · topic fan-out to %d queues (1P/%dC, 16 B, auto-ack, "
                  "confirms 1000 in flight): deliveries" % (n, n),
                  ["-x1", "-y%d" % n, "--queues", n, "-e", "bench.topic", "-t", "topic",
                   "-k", "bench.fan.out", "-s16", "-a", "-c1000", "-z", ctx.seconds])


def s6(ctx, b):
    if b.name not in ctx.max_rate:  # scenario 1 not selected: find the maximum now
        s = ctx.perf(b.uri(), ["-x1", "-y1", "-s16", "-a", "-z", max(2, ctx.seconds // 2)])
        ctx.max_rate[b.name] = s["received_rate"]
    half = max(1000, int(ctx.max_rate[b.name] / 2))
    for tag, rate in (("1k", 1000), ("50%", half)):
        s = ctx.perf(b.uri(), ["-x1", "-y1", "-s16", "-a", "-l", "-r", rate, "-z", ctx.seconds])
        lat = s["latency_us"]
        where = "at 1k msg/s" if tag == "1k" else "at 50% of its max rate"
        for p in ("p50", "p99"):
            ctx.results.record("6.%s.%s" % (tag, p), "6 · latency %s %s (1P/1C, 16 B)" % (p, where),
                               "µs", "lower", b.name, lat[p])
        ctx.log("    %s latency %s: p50 %s p99 %s µs (rate %d)" % (b.name, tag, lat["p50"],
                                                                  lat["p99"], rate))


def s9(ctx, b):
    for kind in ("declare", "bind"):
        s = ctx.perf(b.uri(), ["--churn", kind, "-x1", "-z", max(2, ctx.seconds // 2)])
        label = {"declare": "9 · churn: queue declare+delete", "bind": "9 · churn: bind+unbind"}
        ctx.results.record("9." + kind, label[kind], "ops/s", "higher", b.name,
                           s["operations_rate"])
        ctx.log("    %s churn %s: %.0f ops/s" % (b.name, kind, s["operations_rate"]))


ROUND_SCENARIOS = {"1": s1, "2": s2, "3": s3, "4": s4, "5": s5, "6": s6, "9": s9,
                   "1tls": s1_tls, "3tls": s3_tls}
TLS_SCENARIOS = ("1tls", "3tls")


# -- scenario 0: the client-bound limit --------------------------------------------------------
class _Sink:
    """pulse-bench-sink on a free port, for as long as the with-block lasts."""

    def __init__(self, ctx):
        self.proc = subprocess.Popen([ctx.sink_bin, "0"], stdout=subprocess.PIPE, text=True,
                                     start_new_session=True)

    def __enter__(self):
        port = int(self.proc.stdout.readline().split()[-1])
        return "amqp://guest:guest@127.0.0.1:%d/%%2F" % port

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()


def s0(ctx):
    """pulse-perf against a sink that only reads and discards: how fast the client can go."""
    with _Sink(ctx) as uri:
        runs = (("0.16", "0 · client limit: publish 16 B to a discarding sink", ["-s16"], "sent"),
                ("0.1k", "0 · client limit: publish 1 KiB to a discarding sink", ["-s1024"], "sent"),
                ("0.c", "0 · client limit: publish 1 KiB, confirms (1000 in flight)",
                 ["-s1024", "-c1000"], "confirmed"))
        for key, label, extra, what in runs:
            s = ctx.perf(uri, ["-x1", "-y0", "-z", ctx.seconds] + extra)
            rate = s[what + "_rate"]
            ctx.results.record(key, label, "msg/s", "higher", "sink", rate)
            ctx.log("    sink %s: %.0f msg/s (client %.2f µs/msg)" % (key, rate,
                                                                       s["cpu_us_per_msg"]))


def s6_floor(ctx):
    """Scenario 6's latency through the sink's relay (one read, one write per message): the
    least any broker can add on this machine, so scenario 6 can be judged against it."""
    with _Sink(ctx) as uri:
        s = ctx.perf(uri, ["-x1", "-y1", "-s16", "-a", "-l", "-r", 1000, "-z", ctx.seconds])
        lat = s["latency_us"]
        for p in ("p50", "p99"):
            ctx.results.record("6.floor.%s" % p, "6 · latency floor: %s at 1k msg/s through "
                               "the sink's relay" % p, "µs", "lower", "sink", lat[p])
        ctx.log("    sink relay latency 1k: p50 %s p99 %s µs" % (lat["p50"], lat["p99"]))


# -- scenarios 7 and 8: memory and restart, each on a fresh broker -----------------------------
def _hold(ctx, b, args):
    """Starts pulse-perf holding idle connections or queues; the caller measures once its run
    has begun (_wait_started), then kills it: what it holds dies with the throwaway broker
    (deleting 100k queues one by one would take minutes)."""
    cmd = [ctx.perf_bin, "--uri", b.uri(), "--json", "-i", "1"] + [str(a) for a in args]
    ctx.log("    $ pulse-perf " + " ".join(str(a) for a in args))
    return [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)]


def _wait_started(procs, timeout):
    """Blocks until every pulse-perf in `procs` printed its first progress line."""
    deadline = time.time() + timeout
    for p in procs:
        for line in p.stderr:
            if line.startswith("time "):
                break
            if time.time() > deadline:
                raise PerfFailed("pulse-perf did not start its run in %ds" % timeout)
        else:
            raise PerfFailed("pulse-perf exited (rc=%s) before its run began" % p.wait())


def _kill(procs):
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()


def _idle(ctx, b):
    time.sleep(2 if ctx.quick else 5)
    idle = brokers.stable_rss(b.pid)
    ctx.results.record("7.idle", "7 · idle RSS", "MiB", "lower", b.name, idle / MiB)
    ctx.log("    %s idle RSS %.1f MiB" % (b.name, idle / MiB))
    return idle


def s7_connections(ctx, b):
    """Idle connections, each with one open channel (as pulse-perf holds them)."""
    n = 500 if ctx.quick else 10000
    idle = _idle(ctx, b)
    procs = _hold(ctx, b, ["-x0", "-y0", "--connections", n, "-z", 3600])
    try:
        _wait_started(procs, 900)
        rss = brokers.stable_rss(b.pid)
    finally:
        _kill(procs)
    rec = ctx.results.record
    rec("7.conn", "7 · RSS with %d idle connections" % n, "MiB", "lower", b.name, rss / MiB)
    rec("7.per_conn", "7 · RSS per idle connection (with one channel)", "KiB", "lower", b.name,
        (rss - idle) / n / KiB)
    ctx.log("    %s %d connections: RSS %.1f MiB" % (b.name, n, rss / MiB))


def s7_messages(ctx, b):
    """Transient 16 B messages queued in one queue without consumers (4 publishers, with
    confirms only to bound what is in flight: without them RabbitMQ's flow control holds the
    publishers' connection.close past pulse-perf's 30 s RPC timeout)."""
    n = 20000 if ctx.quick else 1000000
    idle = _idle(ctx, b)
    with b.client() as c:
        c.queue_declare("bench.backlog")
    ctx.perf(b.uri(), ["-x4", "-y0", "-s16", "-c1000", "-u", "bench.backlog", "-C", n // 4],
             timeout=1800)
    _wait_depth(b, "bench.backlog", n)
    rss = brokers.stable_rss(b.pid, settle=3.0)
    rec = ctx.results.record
    rec("7.msgs", "7 · RSS with %d queued 16 B messages" % n, "MiB", "lower", b.name, rss / MiB)
    rec("7.per_msg", "7 · RSS per queued 16 B message", "B", "lower", b.name, (rss - idle) / n)
    ctx.log("    %s %d messages: RSS %.1f MiB" % (b.name, n, rss / MiB))


def s7_queues(ctx, b):
    """Idle durable queues, declared by 8 clients at once (one would take minutes on either)."""
    n = 2000 if ctx.quick else 100000
    idle = _idle(ctx, b)
    t0 = time.time()
    procs = []
    for _ in range(8):
        procs += _hold(ctx, b, ["-x0", "-y0", "-p", "--idle-queues", n // 8, "-z", 3600])
    try:
        _wait_started(procs, 1800)
        declare_s = time.time() - t0
        rss = brokers.stable_rss(b.pid)
    finally:
        _kill(procs)
    rec = ctx.results.record
    rec("7.queues", "7 · RSS with %d durable queues" % n, "MiB", "lower", b.name, rss / MiB)
    rec("7.per_queue", "7 · RSS per durable queue", "B", "lower", b.name, (rss - idle) / n)
    rec("7.declare", "7 · durable queue declares/s (8 clients)", "ops/s", "higher", b.name,
        n / declare_s)
    ctx.log("    %s %d queues: RSS %.1f MiB, %.0f declares/s" % (b.name, n, rss / MiB,
                                                             n / declare_s))


def _wait_depth(b, queue, n, timeout=300):
    deadline = time.time() + timeout
    with b.client() as c:
        while time.time() < deadline:
            depth, _ = c.queue_declare(queue, passive=True)
            if depth >= n:
                return depth
            time.sleep(0.2)
    raise PerfFailed("%s: queue %s holds %d of %d messages" % (b.name, queue, depth, n))


def s8(ctx, b):
    n_msgs = 20000 if ctx.quick else 1000000
    with b.client() as c:
        c.queue_declare("bench.durable", durable=True)
    ctx.perf(b.uri(), ["-x4", "-y0", "-s16", "-p", "-c1000", "-u", "bench.durable",
                       "-C", n_msgs // 4], timeout=1800)
    _wait_depth(b, "bench.durable", n_msgs)
    b.kill9()
    ready = b.start(timeout=900, queue="bench.durable")
    ctx.results.record("8", "8 · restart after kill -9 with %d persistent 16 B messages, "
                       "until the first basic.get" % n_msgs, "s", "lower", b.name, ready)
    with b.client() as c:
        depth, _ = c.queue_declare("bench.durable", passive=True)
    ctx.log("    %s restart: %.2f s to the first message (%d recovered)" % (b.name, ready,
                                                                          depth))
    if depth != n_msgs:
        ctx.results.error("8 " + b.name, "recovered %d of %d messages" % (depth, n_msgs))


# Each on a fresh node, so that no step inherits another's heap.
FRESH_SCENARIOS = {"7": [s7_connections, s7_messages, s7_queues], "8": [s8]}
