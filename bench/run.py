#!/usr/bin/python3
"""Side-by-side benchmark of pulsed and RabbitMQ (issue 4). See bench/README.md.

    bench/run.py [--rounds 3] [--scenarios 0,1,...,13,1tls,3tls,1tls-pika,1-pika] [--quick]
                 [--pulsed PATH] [--perf PATH] [--sink PATH] [--out bench/RESULTS.md]
"""
import argparse
import datetime
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import brokers  # noqa: E402
import pika_perf  # noqa: E402
import report  # noqa: E402
import rmqc  # noqa: E402
import scenarios  # noqa: E402
import tls  # noqa: E402

REPO = os.path.dirname(HERE)
ALL = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "1tls", "3tls",
       "1tls-pika"]
EXTRA = ["7c", "7m", "7q", "1-pika"]  # selectable, not in the default set
ROUND_SCENARIOS = dict(scenarios.ROUND_SCENARIOS, **pika_perf.SCENARIOS, **rmqc.SCENARIOS)
TLS_SCENARIOS = scenarios.TLS_SCENARIOS + pika_perf.TLS_SCENARIOS


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    commit = sh("git", "-C", REPO, "rev-parse", "--short", "HEAD")
    if sh("git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"):
        commit += " (with uncommitted changes)"
    return {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "uname": " ".join(platform.uname()),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": "%.1f GiB" % (os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        "pulsed": commit,
        "rabbitmq": sh("dpkg-query", "-W", "-f", "${Version}", "rabbitmq-server"),
        "erlang": sh("dpkg-query", "-W", "-f", "${Version}", "erlang-base"),
    }


def raise_fd_limit():
    """10,000 idle connections need as many descriptors in the broker and in pulse-perf."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def make(name, work, args, epmd, certs=None):
    """certs: give the broker an AMQPS listener too (pulsed only when its build has one)."""
    if name == "pulsed":
        return brokers.Pulsed(work, args.pulsed, certs if args.pulsed_amqps else None)
    return brokers.Rabbit(work, epmd, certs)


def run_round(ctx, args, work, epmd, rnd, selected):
    order = ["pulsed", "rabbitmq"] if rnd % 2 == 1 else ["rabbitmq", "pulsed"]
    order = [name for name in order if name in args.brokers]
    if "0" in selected:
        log("round %d: client-bound limit (sink)" % rnd)
        guarded(ctx, "round %d scenario 0" % rnd, scenarios.s0, ctx)
    if "6" in selected:
        log("round %d: latency floor (sink relay)" % rnd)
        guarded(ctx, "round %d scenario 6 floor" % rnd, scenarios.s6_floor, ctx)
    if "12" in selected:
        log("round %d: rabbitmq-c latency floor (sink relay)" % rnd)
        guarded(ctx, "round %d scenario 12 floor" % rnd, rmqc.s12_floor, ctx, work)
    todo = [s for s in selected if s in ROUND_SCENARIOS]
    if not todo:
        return
    ctx.max_rate = {}
    certs = args.certs if any(s in TLS_SCENARIOS for s in todo) else None
    for name in order:
        if name == "pulsed" and not args.pulsed_amqps and all(
                s in TLS_SCENARIOS for s in todo):
            ctx.results.note(scenarios.NO_AMQPS)  # nothing to measure: not even started
            continue
        b = make(name, work, args, epmd, certs)
        try:
            log("round %d: %s (port %d) started in %.1f s" % (rnd, name, b.port, b.start()))
            for s in todo:
                log("  scenario %s" % s)
                guarded(ctx, "round %d scenario %s %s" % (rnd, s, name),
                        ROUND_SCENARIOS[s], ctx, b)
        except Exception:  # noqa: BLE001 (a broker that fails to start is a result too)
            failed(ctx, "round %d %s" % (rnd, name))
        finally:
            b.stop()


def run_fresh(ctx, args, work, epmd, selected):
    """Scenarios 7 and 8 once per broker, each on a fresh node (their figures are absolute)."""
    steps = {"7c": "s7_connections", "7m": "s7_messages", "7q": "s7_queues"}
    for s in [s for s in selected if s in scenarios.FRESH_SCENARIOS or s in steps]:
        fns = scenarios.FRESH_SCENARIOS.get(s) or [
            fn for fn in scenarios.FRESH_SCENARIOS["7"] if fn.__name__ == steps[s]]
        for fn, name in [(fn, n) for fn in fns for n in ("pulsed", "rabbitmq")
                         if n in args.brokers]:
            b = make(name, work, args, epmd)
            try:
                ready = b.start()
                ctx.results.record("8.boot", "8 · start on an empty data directory, until a "
                                   "client can log in", "s", "lower", name, ready)
                log("scenario %s (%s): %s started in %.1f s" % (s, fn.__name__, name, ready))
                guarded(ctx, "scenario %s %s" % (fn.__name__, name), fn, ctx, b)
            except Exception:  # noqa: BLE001
                failed(ctx, "scenario %s %s" % (s, name))
            finally:
                b.stop(kill=True)  # a throwaway node: no clean shutdown of 100k queues


def failed(ctx, where):
    """Records the exception being handled: a broker that did not start or a pulse-perf that
    failed by its own words (the broker's log tail, pulse-perf's stderr), anything else with
    its traceback."""
    e = sys.exc_info()[1]
    known = isinstance(e, (brokers.StartFailed, scenarios.PerfFailed))
    text = str(e) if known else traceback.format_exc()
    log("    FAILED %s: %s" % (where, text))
    ctx.results.error(where, text)


def guarded(ctx, where, fn, *a):
    try:
        fn(*a)
    except Exception:  # noqa: BLE001 (report and go on with the next scenario)
        failed(ctx, where)


def write_results(path, m, args, results, loads, elapsed, fd_limit):
    sections = [
        "# Benchmark results: pulsed vs RabbitMQ",
        "",
        "Written by `bench/run.py %s` (see bench/README.md for what each figure means)." %
        " ".join(sys.argv[1:]),
        "",
        "- date: %s; run time %.0f min" % (m["date"], elapsed / 60),
        "- machine: %s, %s cores, %s RAM" % (m["cpu"], m["cores"], m["memory"]),
        "- `uname -a`: %s" % m["uname"],
        "- pulsed: git %s (`%s`)" % (m["pulsed"], os.path.relpath(args.pulsed, REPO)
                                     if args.pulsed.startswith(REPO) else args.pulsed),
        "- RabbitMQ %s (Debian), Erlang/OTP %s (Debian erlang-base), management plugin off" %
        (m["rabbitmq"], m["erlang"]),
        "- load average (1, 5, 15 min) at start: %s; at end: %s — the 2 cores are shared with "
        "other developers' builds and tests" % tuple(
            "%.2f, %.2f, %.2f" % l for l in loads),
        "- rounds: %d%s (medians below; scenarios 7 and 8 once per broker, each on a fresh "
        "node); open-files limit %d" % (args.rounds, ", --quick" if args.quick else "",
                                        fd_limit),
        "",
        "## Targets (issues 4 and 18)",
        "",
        report.targets_table(results) or "(no target figure measured in this run)",
        "",
        "## All figures (medians)",
        "",
        report.table(results),
        "",
        "Ratio = pulsed / RabbitMQ (above 1 is better for rates, below 1 for latency, memory "
        "and times). CPU per message = the broker's utime+stime over the client's run / "
        "messages consumed (confirmed for scenario 3; deliveries for fan-out).",
        "",
        "Which client produced each figure: scenarios 0-9, 1tls and 3tls `pulse-perf` (ours; it "
        "writes hundreds of publishes per syscall, so those rows are the client-side limit); "
        "1-pika and 1tls-pika pika; 10-12 rabbitmq-c 0.11 (`pulse-bench-rmqc`, one "
        "`amqp_basic_publish()` per message, as users write it); 13 py-amqp (kombu's "
        "transport). Issue 18's targets are judged on 10-12.",
        "",
        report.sink_table(results),
        "",
    ] + (["Not measured: " + "; ".join(results.notes), ""] if results.notes else []) + [
        "## Every round",
        "",
        report.rounds_table(results),
        "",
    ]
    if results.errors:
        sections += ["## Failures", ""] + ["```\n%s\n```" % e for e in results.errors] + [""]
    with open(path, "w") as f:
        f.write("\n".join(sections))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--scenarios", default=",".join(ALL),
                    help="comma-separated subset of 0-9 (0 = client-bound limit); 7c, 7m, 7q "
                    "= one step of 7 (connections, messages, queues); 1tls, 3tls = 1 and 3 "
                    "over AMQPS; 1tls-pika, 1-pika (not in the default) = 1 driven by pika "
                    "over AMQPS and plain AMQP; 10-13: rabbitmq-c and py-amqp (bench/rmqc.py)")
    ap.add_argument("--quick", action="store_true", help="short durations: a smoke run")
    ap.add_argument("--brokers", default="pulsed,rabbitmq",
                    help="comma-separated subset of pulsed,rabbitmq (default both)")
    ap.add_argument("--pulsed", default=os.path.join(REPO, "build", "src", "app", "pulsed"))
    ap.add_argument("--perf", help="pulse-perf (default: beside --pulsed's build tree)")
    ap.add_argument("--sink", help="pulse-bench-sink (default: beside --pulsed's build tree)")
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--workdir", default=None, help="where broker data directories go")
    args = ap.parse_args()
    selected = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    bad = [s for s in selected if s not in ALL + EXTRA]
    args.brokers = [b.strip() for b in args.brokers.split(",") if b.strip()]
    if bad or args.rounds < 1:
        ap.error("unknown scenarios %s (0-13, 1tls, 3tls, 1tls-pika, 1-pika) or --rounds < 1"
                 % bad)
    if not args.brokers or set(args.brokers) - {"pulsed", "rabbitmq"}:
        ap.error("--brokers: a subset of pulsed,rabbitmq")
    build = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(args.pulsed))))
    args.pulsed = os.path.abspath(args.pulsed)
    args.perf = args.perf or os.path.join(build, "tools", "pulse-perf", "pulse-perf")
    args.sink = args.sink or os.path.join(build, "bench", "pulse-bench-sink")
    args.rmqc = os.path.join(build, "bench", "pulse-bench-rmqc")
    needs_sink = "0" in selected or "6" in selected or "12" in selected
    needs_rmqc = any(s in selected for s in ("10", "11", "12"))
    pulsed = (args.pulsed,) if "pulsed" in args.brokers else ()
    for path in pulsed + (args.perf,) + ((args.sink,) if needs_sink else ()) + (
            (args.rmqc,) if needs_rmqc else ()):
        if not os.access(path, os.X_OK):
            ap.error("not executable: %s" % path)
    if not os.access(os.path.join(brokers.RABBIT_BIN, "rabbitmq-server"), os.X_OK):
        ap.error("RabbitMQ is not installed (%s/rabbitmq-server)" % brokers.RABBIT_BIN)

    # Stop cleanly on SIGTERM or SIGINT (a background job starts with SIGINT ignored): the
    # finally blocks stop the brokers, which run in their own sessions.
    def interrupted(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    fd_limit = raise_fd_limit()
    m = machine()
    load0 = os.getloadavg()
    t0 = time.time()
    if args.workdir:
        os.makedirs(args.workdir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="pulse-bench-", dir=args.workdir)
    args.certs = None
    args.pulsed_amqps = "pulsed" in args.brokers and tls.pulsed_has_amqps(args.pulsed)
    if any(s in TLS_SCENARIOS for s in selected):
        args.certs = tls.make_certs(os.path.join(work, "certs"))
        if "pulsed" in args.brokers and not args.pulsed_amqps:
            log(scenarios.NO_AMQPS)
    results = scenarios.Results()
    ctx = scenarios.Context(args.perf, args.sink, args.quick, results, log)
    ctx.rmqc_bin = args.rmqc
    epmd = brokers.Epmd()
    try:
        for rnd in range(1, args.rounds + 1):
            run_round(ctx, args, work, epmd, rnd, selected)
        run_fresh(ctx, args, work, epmd, selected)
    finally:
        epmd.stop()
        shutil.rmtree(work, ignore_errors=True)
    write_results(args.out, m, args, results, (load0, os.getloadavg()), time.time() - t0,
                  fd_limit)
    print(report.table(results))
    sink = report.sink_table(results)
    if sink:
        print("\n" + sink)
    for note in results.notes:
        print("\n" + note)
    tt = report.targets_table(results)
    if tt:
        print("\n" + tt)
    for e in results.errors:
        print("\nFAILED %s" % e)
    print("\nwritten to %s" % args.out)
    return 1 if results.errors else 0


if __name__ == "__main__":
    sys.exit(main())
