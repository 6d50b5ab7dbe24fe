"""Scenarios 10-13: the brokers driven by clients we did not write, one publish per call, as
Pulse's users' clients do (pulse-perf batches hundreds of publishes per write; its figures are
the client-side limit, these are what users get). See bench/README.md.

10: rabbitmq-c (pulse-bench-rmqc, bench/rmqc_perf.cc), 1P/1C, 16 B, transient, auto-ack, as
    fast as the publisher goes (at most 20,000 messages ahead of the consumer).
11: the same paced at 50k msg/s: broker CPU, client CPU, latency.
12: the same paced at 1k msg/s: latency, beside the floor (the same client through
    pulse-bench-sink's relay, no broker at all) measured in the same round.
13: py-amqp (kombu's transport, Debian's python3-amqp) draining a backlog of 100,000 16 B
    messages with basic.consume, prefetch 100, an ack per message (pyamqp_drain.py).

Besides rates, each run records the broker's CPU per message (its process tree's utime+stime
over the run), the client's, and with `perf` (Debian's linux-perf) the syscalls per message
of the broker and of the client (tracepoint raw_syscalls:sys_enter; "—" where perf cannot
count them).
"""
import json
import os
import shutil
import signal
import subprocess
import time

import scenarios

PYTHON = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))


def _perf_usable():
    if not shutil.which("perf"):
        return False
    p = subprocess.run(["perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter", "true"],
                       capture_output=True, text=True)
    return p.returncode == 0 and "not supported" not in p.stderr


PERF = _perf_usable()


def _count(path):
    try:
        with open(path) as f:
            for line in f:
                if "raw_syscalls:sys_enter" in line and line.split(",")[0].isdigit():
                    return int(line.split(",")[0])
    except OSError:
        pass
    return None


class _SyscallCounter:
    """perf stat counting the syscalls of a running process (all its threads)."""

    def __init__(self, pid, path):
        self.path = path
        self.proc = None
        if PERF and pid:
            self.proc = subprocess.Popen(["perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter",
                                          "-p", str(pid), "-o", path],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.3)  # perf attaches before the run starts

    def stop(self):
        if not self.proc:
            return None
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(30)
        return _count(self.path)


def rmqc(ctx, port, work, args, broker_pid=None):
    """One pulse-bench-rmqc run; returns (summary, broker syscalls, client syscalls)."""
    cmd = [ctx.rmqc_bin, "--port", str(port), "--seconds", str(ctx.seconds)] + [
        str(a) for a in args]
    ctx.log("    $ pulse-bench-rmqc " + " ".join(str(a) for a in args))
    client_out = os.path.join(work, "perf-client.txt")
    if PERF:
        cmd = ["perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter", "-o", client_out] + cmd
    counter = _SyscallCounter(broker_pid, os.path.join(work, "perf-broker.txt"))
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=ctx.seconds * 4 + 60)
    finally:
        broker_calls = counter.stop()
    try:
        s = json.loads(p.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise scenarios.PerfFailed("pulse-bench-rmqc rc=%d, no JSON\n%s"
                                   % (p.returncode, p.stderr[-1500:]))
    if p.returncode != 0 or not s["ok"]:
        raise scenarios.PerfFailed("pulse-bench-rmqc rc=%d: sent %s received %s lost %s "
                                   "duplicated %s reordered %s\n%s" % (
                                       p.returncode, s["sent"], s["received"], s["lost"],
                                       s["duplicated"], s["reordered"], p.stderr[-800:]))
    return s, broker_calls, (_count(client_out) if PERF else None)


def _per_msg(calls, n):
    return calls / n if calls is not None and n else None


def _record_costs(ctx, b, key, what, s, cpu, broker_calls, client_calls):
    rec = ctx.results.record
    n = s["received"]
    rec(key + ".client", "%s · rabbitmq-c %s: client CPU per message (publisher + consumer)"
        % (key.split(".")[0], what), "µs", "lower", b.name, s["cpu_us_per_msg"])
    if broker_calls is not None:
        rec(key + ".bsys", "%s · rabbitmq-c %s: broker syscalls per message"
            % (key.split(".")[0], what), "calls", "lower", b.name, broker_calls / n)
    if client_calls is not None:
        rec(key + ".csys", "%s · rabbitmq-c %s: client syscalls per message"
            % (key.split(".")[0], what), "calls", "lower", b.name, client_calls / n)
    ctx.log("    %s: %.0f msg/s, broker %.2f µs/msg (%.0f %% CPU), client %.2f µs/msg "
            "(publisher %.2f, consumer %.2f; %.0f %% CPU), syscalls/msg broker %s client %s%s"
            % (b.name, s["received_rate"], cpu * 1e6 / n, cpu * 100 / s["elapsed"],
               s["cpu_us_per_msg"], s["publisher_cpu_us_per_msg"],
               s["consumer_cpu_us_per_msg"], s["client_cpu_percent"],
               _fmt(_per_msg(broker_calls, n)), _fmt(_per_msg(client_calls, n)),
               (", latency %s" % s["latency_us"]) if "latency_us" in s else ""))


def _fmt(v):
    return "—" if v is None else "%.2f" % v


def _run(ctx, b, args):
    work = b.tmp
    cpu0 = b.cpu()
    s, bcalls, ccalls = rmqc(ctx, b.port, work, args, b.pid)
    return s, b.cpu() - cpu0, bcalls, ccalls


def s10(ctx, b):
    s, cpu, bcalls, ccalls = _run(ctx, b, ["--size", 16])
    n = s["received"]
    ctx.results.record("10", "10 · rabbitmq-c 1P/1C, 16 B, transient, auto-ack, one publish per "
                       "call: consumed", "msg/s", "higher", b.name, s["received_rate"],
                       cpu * 1e6 / n)
    _record_costs(ctx, b, "10", "1P/1C", s, cpu, bcalls, ccalls)


def s11(ctx, b):
    s, cpu, bcalls, ccalls = _run(ctx, b, ["--size", 16, "--rate", 50000])
    n = s["received"]
    rec = ctx.results.record
    rec("11", "11 · rabbitmq-c paced at 50k msg/s (1P/1C, 16 B): broker CPU", "%", "lower",
        b.name, cpu * 100 / s["elapsed"], cpu * 1e6 / n)
    rec("11.cpct", "11 · rabbitmq-c paced at 50k msg/s: client CPU", "%", "lower", b.name,
        s["client_cpu_percent"])
    _record_costs(ctx, b, "11", "paced at 50k msg/s", s, cpu, bcalls, ccalls)
    for p in ("p50", "p99"):
        rec("11.%s" % p, "11 · rabbitmq-c paced at 50k msg/s: latency %s" % p, "µs", "lower",
            b.name, s["latency_us"][p])


def s12(ctx, b):
    s, _cpu, _b, _c = _run(ctx, b, ["--size", 16, "--rate", 1000])
    for p in ("p50", "p99"):
        ctx.results.record("12.%s" % p, "12 · rabbitmq-c latency %s at 1k msg/s (1P/1C, 16 B)"
                           % p, "µs", "lower", b.name, s["latency_us"][p])
    ctx.log("    %s rabbitmq-c latency at 1k msg/s: %s" % (b.name, s["latency_us"]))


def s12_floor(ctx, work):
    """Scenario 12's latency through the sink's relay: the least a broker can add here."""
    with scenarios._Sink(ctx) as uri:
        port = int(uri.rsplit(":", 1)[1].split("/")[0])
        s, _b, _c = rmqc(ctx, port, work, ["--size", 16, "--rate", 1000])
    for p in ("p50", "p99"):
        ctx.results.record("12.floor.%s" % p, "12 · latency floor: rabbitmq-c %s at 1k msg/s "
                           "through the sink's relay" % p, "µs", "lower", "sink",
                           s["latency_us"][p])
    ctx.log("    sink relay, rabbitmq-c latency at 1k msg/s: %s" % s["latency_us"])


def s13(ctx, b):
    n = 20000 if ctx.quick else 100000
    queue = "bench.drain"
    with b.client() as c:
        c.queue_declare(queue)
    ctx.perf(b.uri(), ["-x1", "-y0", "-s16", "-c1000", "-u", queue, "-C", n])
    scenarios._wait_depth(b, queue, n)
    cpu0 = b.cpu()
    cmd = [PYTHON, os.path.join(HERE, "pyamqp_drain.py"), "127.0.0.1", str(b.port), queue,
           str(n)]
    ctx.log("    $ pyamqp_drain.py %s %d" % (queue, n))
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    cpu = b.cpu() - cpu0
    if p.returncode != 0:
        raise scenarios.PerfFailed("pyamqp_drain rc=%d\n%s" % (p.returncode, p.stderr[-1500:]))
    s = json.loads(p.stdout.strip().splitlines()[-1])
    with b.client() as c:
        c.queue_delete(queue)
    rec = ctx.results.record
    rec("13", "13 · py-amqp draining %d queued 16 B messages (basic.consume, prefetch 100, "
        "an ack each): consumed" % n, "msg/s", "higher", b.name, s["rate"], cpu * 1e6 / n)
    rec("13.client", "13 · py-amqp drain: client CPU per message", "µs", "lower", b.name,
        s["cpu_us_per_msg"])
    ctx.log("    %s py-amqp drain: %.0f msg/s, broker %.2f µs/msg, client %.1f µs/msg"
            % (b.name, s["rate"], cpu * 1e6 / n, s["cpu_us_per_msg"]))


SCENARIOS = {"10": s10, "11": s11, "12": s12, "13": s13}
