#!/usr/bin/python3
"""Soak and chaos run of pulsed (issue 19). See bench/soak/README.md.

    bench/soak/run.sh [--minutes 30] [--seed N] [--out FILE]
"""
import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from amqp_workers import AmqpConsumer, AmqpPublisher  # noqa: E402
from chaos import Chaos, api, fd_count  # noqa: E402
from harness.procfs import rss_bytes  # noqa: E402
from harness.pulsed import PulsedBroker  # noqa: E402
from ledger import Stream  # noqa: E402
from logscan import scan_log  # noqa: E402
from stomp_workers import StompConsumer, StompPublisher  # noqa: E402
from tool_workers import PulseListen, PulsePublish  # noqa: E402

MiB = 1 << 20
EXCHANGE = "exchange/guest/soak"


def log(msg):
    print("%s %s" % (datetime.datetime.now().strftime("%H:%M:%S"), msg), flush=True)


def mount_small_fs(path, size_mb):
    """A tmpfs of size_mb at path (needs root); False if it cannot be mounted."""
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm" % size_mb, "soak", path],
                       capture_output=True, text=True)
    if r.returncode != 0:
        log("cannot mount a %d MiB tmpfs (%s): the full-disk events are off"
            % (size_mb, r.stderr.strip()))
        return False
    return True


def settle(broker, seconds=5.0):
    """RSS and fds of pulsed once they stop moving (idle)."""
    time.sleep(seconds)
    return rss_bytes(broker.pid), fd_count(broker.pid)


def open_files(pid):
    """What pulsed's descriptors point at, counted by kind (for a failed fd check)."""
    kinds = {}
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            kind = target.split(":[")[0] if ":[" in target else target
            kinds[kind] = kinds.get(kind, 0) + 1
    except OSError:
        return "?"
    return ", ".join("%s x%d" % kv for kv in sorted(kinds.items()))


def queue_depths(broker, names):
    out = {}
    for q in api(broker, "GET", "/api/queues/%2F") or []:
        if q["name"] in names:
            out[q["name"]] = q.get("messages", 0)
    return out


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=30)
    p.add_argument("--seed", type=int, default=int(time.time()))
    p.add_argument("--rate", type=float, default=150,
                   help="messages per second of each AMQP and STOMP publisher")
    p.add_argument("--gap", default="20,60", help="seconds between chaos events: MIN,MAX")
    p.add_argument("--fs-mb", type=int, default=384, help="size of pulsed's filesystem")
    p.add_argument("--deep-mb", type=int, default=48,
                   help="MiB parked in a queue past its memory budget (16 MiB) until the end")
    p.add_argument("--no-disk-full", action="store_true")
    p.add_argument("--first", default="",
                   help="chaos events to run first, in this order (e.g. kill9,close,diskfull)")
    p.add_argument("--pulsed", default=os.path.join(REPO, "build", "src", "app", "pulsed"))
    p.add_argument("--tools", default=os.path.join(REPO, "build", "tools"))
    p.add_argument("--out", default=None, help="report file (markdown); default: stdout only")
    args = p.parse_args()
    for k in (k for k in args.first.split(",") if k):
        if k not in Chaos.WEIGHTS:
            p.error("--first: unknown event %r (one of %s)" % (k, ", ".join(Chaos.WEIGHTS)))
    return args


def main():
    args = parse_args()
    os.environ["PULSED_BIN"] = args.pulsed
    gap = tuple(float(x) for x in args.gap.split(","))
    work = tempfile.mkdtemp(prefix="pulse-soak-")
    fs_dir = os.path.join(work, "fs")
    disk = not args.no_disk_full and mount_small_fs(fs_dir, args.fs_mb)
    os.makedirs(fs_dir, exist_ok=True)
    broker = PulsedBroker(config={
        "paging.queue_memory_limit": 16 * MiB,
        "disk_free_limit.absolute": 24 * MiB,
        "log.console.level": "info",
    }, log_level=None)
    broker.data_dir = os.path.join(fs_dir, "data")
    os.makedirs(broker.data_dir)
    log("soak: %.0f min, seed %d, work dir %s, data on %s" % (
        args.minutes, args.seed, work, "a %d MiB tmpfs" % args.fs_mb if disk else "disk"))
    broker.start(timeout=60, definitions=False)
    try:
        report, failures = run(args, broker, fs_dir, disk, gap)
    finally:
        broker.stop(check=False)
        if disk:
            subprocess.run(["umount", "-l", fs_dir])
    text = render(args, report, failures)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    return 1 if failures else 0


QUEUES = ("soak.amqp", "soak.amqp2", "soak.stomp", "soak.deep")


def warm_up(broker, listen):
    """Every queue declared and one message through each, so the baseline counts the files a
    queue keeps open: after the run, pulsed should hold just these again."""
    conn = broker.connect()
    ch = conn.channel()
    for q in QUEUES:
        ch.queue_declare(q, durable=True)
        ch.basic_publish("", q, b'{"id": 0}')
        while True:
            method, _props, _body = ch.basic_get(q)
            if method:
                ch.basic_ack(method.delivery_tag)
                break
    ch.basic_publish(EXCHANGE, "soak.tool", b'{"payload": {"id": 0}}')
    conn.close()
    deadline = time.monotonic() + 30
    while 0 not in listen.stream.received and time.monotonic() < deadline:
        time.sleep(0.1)


def run(args, broker, fs_dir, disk, gap):
    seed = args.seed
    streams = {n: Stream(n) for n in ("amqp", "amqp2", "stomp", "tool", "deep")}
    # The Pulse tools: the listener's durable queue must exist before the first publish.
    conn = broker.connect()
    conn.channel().exchange_declare(EXCHANGE, "topic", durable=True)
    conn.close()
    listen = PulseListen(os.path.join(args.tools, "pulse-listen", "pulse-listen"), broker,
                         streams["tool"], EXCHANGE)
    listen.start()
    if not listen.listening.wait(30):
        raise RuntimeError("pulse-listen did not start listening")
    warm_up(broker, listen)
    base_rss, base_fds = settle(broker, 2)
    log("pulsed up (pid %d), queues declared: %.1f MiB RSS, %d fds"
        % (broker.pid, base_rss / MiB, base_fds))
    t_start = time.monotonic()
    t_end = t_start + args.minutes * 60
    deep_count = args.deep_mb * MiB // (2600)  # body_of averages ~2.6 KB
    # The deep queue is filled first, with no consumer until the end: past its memory budget
    # it pages to disk, and it rides every restart.
    deep = AmqpPublisher("deep-publisher", broker, log, streams["deep"], "soak.deep", 0, seed,
                         count=deep_count)
    deep.start()
    publish = PulsePublish(os.path.join(args.tools, "pulse-publish", "pulse-publish"), broker,
                           streams["tool"], EXCHANGE, args.rate / 3, log)
    workers = [
        AmqpPublisher("amqp-publisher", broker, log, streams["amqp"], "soak.amqp", args.rate,
                      seed + 1),
        AmqpConsumer("amqp-consumer", broker, log, streams["amqp"], "soak.amqp", seed + 2),
        AmqpPublisher("amqp-publisher-2", broker, log, streams["amqp2"], "soak.amqp2",
                      args.rate, seed + 3),
        AmqpConsumer("amqp-consumer-2", broker, log, streams["amqp2"], "soak.amqp2", seed + 4),
        StompPublisher("stomp-publisher", broker, log, streams["stomp"], "soak.stomp",
                       args.rate, seed + 5),
        StompConsumer("stomp-consumer", broker, log, streams["stomp"], "soak.stomp", seed + 6),
    ]
    for w in workers:
        w.start()
    publish.start()
    chaos = Chaos(broker, fs_dir, seed + 7, log, gap=gap,
                  calm_after=t_start + 0.75 * (t_end - t_start), disk=disk,
                  first=[k for k in args.first.split(",") if k])
    chaos.start()
    last = 0
    while time.monotonic() < t_end:
        time.sleep(1)
        if not chaos.lock.acquire(timeout=0.1):
            continue
        try:
            chaos.sample_rss()
        finally:
            chaos.lock.release()
        if time.monotonic() - last >= 60:
            last = time.monotonic()
            log("progress: " + ", ".join("%s %d/%d" % (s.name, len(s.received), len(s.confirmed))
                                         for s in streams.values()))
    chaos.stop()
    chaos.join(180)
    under_load = rss_bytes(broker.pid), fd_count(broker.pid)
    log("load ends: draining")
    return finish(args, broker, streams, workers, deep, listen, publish, chaos, base_rss,
                  base_fds, under_load, t_start)


def finish(args, broker, streams, workers, deep, listen, publish, chaos, base_rss, base_fds,
           under_load, t_start):
    failures = []
    for w in workers:
        if isinstance(w, (AmqpPublisher, StompPublisher)):
            w.stop()
    deep.stop()
    publish.stop()
    publish.join(10)
    rc = publish.finish(timeout=120)
    if rc != 0:
        failures.append("pulse-publish exited %s: %s; failed lines %s" % (
            rc, publish.summary, dict(list(publish.failed.items())[:5])))
    for w in workers + [deep]:
        if isinstance(w, (AmqpPublisher, StompPublisher)):
            w.join(60)
    # Consumers run until every confirmed message has come, or two quiet minutes.
    deadline = time.monotonic() + 120
    live = ("amqp", "amqp2", "stomp", "tool")
    while time.monotonic() < deadline and any(streams[n].missing() for n in live):
        time.sleep(1)
    drain = AmqpConsumer("deep-consumer", broker, log, streams["deep"], "soak.deep",
                         args.seed + 8, reject_every=0)
    drain.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and streams["deep"].missing():
        time.sleep(1)
    time.sleep(2)  # the last acks
    depths = queue_depths(broker, {"soak.amqp", "soak.amqp2", "soak.stomp", "soak.deep",
                                   "queue/guest/soak"})
    for w in workers + [drain]:
        w.stop()
    for w in workers + [drain, deep]:
        w.join(30)
        if w.error:
            failures.append(w.error)
    for t in (listen, publish, chaos):
        if t.error:
            failures.append(t.error)
    listen.stop()
    end_rss, end_fds = settle(broker, 10)
    end_files = open_files(broker.pid)
    # The same state (the same queues, empty) in a fresh process: what the aged one should be
    # back to. The clean restart must also bring back none of the acked messages.
    broker.restart(definitions=False)
    fresh_rss, fresh_fds = settle(broker, 3)
    for name, n in queue_depths(broker, set(depths)).items():
        if n:
            failures.append("queue %s holds %d messages again after a clean restart" % (name, n))
    streams_report = []
    for s in streams.values():
        rep, fails = s.check(chaos.crash_times)
        streams_report.append(rep)
        failures += fails
    for name, n in depths.items():
        if n:
            failures.append("queue %s still holds %d messages after the drain" % (name, n))
    if end_fds is None or end_fds > fresh_fds + 2:
        failures.append("pulsed held %s fds after the run, a fresh one %d: %s" % (
            end_fds, fresh_fds, end_files))
    rss_limit = int(fresh_rss * 1.5) + 16 * MiB
    if end_rss is None or end_rss > rss_limit:
        failures.append("pulsed's RSS was %.1f MiB after the run, a fresh one's %.1f MiB (limit "
                        "%.1f MiB)" % ((end_rss or 0) / MiB, fresh_rss / MiB, rss_limit / MiB))
    unexplained, explained = scan_log(broker.log_path, chaos)
    failures += ["unexplained log line: " + line for line in unexplained[:20]]
    if len(unexplained) > 20:
        failures.append("... and %d more unexplained log lines" % (len(unexplained) - 20))
    report = {
        "duration_min": (time.monotonic() - t_start) / 60,
        "streams": streams_report,
        "events": chaos.events,
        "restart_times": [e - s for s, e in chaos.restart_windows],
        "memory": {"base": (base_rss, base_fds), "under_load": under_load,
                   "end": (end_rss, end_fds), "fresh": (fresh_rss, fresh_fds),
                   "peak_rss": chaos.peak_rss},
        "reconnects": {w.name: w.reconnects for w in workers + [deep]},
        "tool_reconnects": {"pulse-publish": publish.reconnects,
                            "pulse-listen": listen.reconnects},
        "log_explained": explained,
    }
    return report, failures


def render(args, rep, failures):
    kinds = {}
    for _t, kind, _d in rep["events"]:
        kinds[kind] = kinds.get(kind, 0) + 1
    out = ["# Soak run %s" % datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "",
           "%.1f minutes, seed %d, %.0f msg/s per AMQP/STOMP publisher; chaos events: %s"
           % (rep["duration_min"], args.seed, args.rate,
              ", ".join("%s %d" % kv for kv in sorted(kinds.items())) or "none"), ""]
    cols = list(rep["streams"][0].keys())
    out.append("| " + " | ".join(cols) + " |")
    out.append("|" + "---|" * len(cols))
    for s in rep["streams"]:
        out.append("| " + " | ".join(str(s[c]) for c in cols) + " |")
    m = rep["memory"]
    rt = rep["restart_times"]
    out += ["",
            "pulsed RSS / fds: start %.1f MiB / %d; end of load %.1f MiB / %s; after the drain "
            "%.1f MiB / %s; the same state in a fresh process %.1f MiB / %s; peak %.1f MiB" % (
                m["base"][0] / MiB, m["base"][1], (m["under_load"][0] or 0) / MiB,
                m["under_load"][1], (m["end"][0] or 0) / MiB, m["end"][1],
                (m["fresh"][0] or 0) / MiB, m["fresh"][1], m["peak_rss"] / MiB),
            "restarts: %d, ready again after %s s (max)" % (
                len(rt), "%.1f" % max(rt) if rt else "-"),
            "client reconnects: %s" % ", ".join(
                "%s %d" % kv for kv in list(rep["reconnects"].items()) +
                list(rep["tool_reconnects"].items())),
            "log lines at warning or above, each explained by an event: %s" % (
                ", ".join("%s %d" % kv for kv in rep["log_explained"].items()) or "none"),
            ""]
    out.append("RESULT: " + ("FAIL" if failures else "PASS"))
    out += ["- " + f for f in failures]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
