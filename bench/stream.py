#!/usr/bin/python3
"""Do pulse-listen and a pulse::Consumer keep up with a steady 50k msg/s stream (issue 12)?
See bench/README.md.

    bench/stream.py [--rate 50000] [--seconds 10] [--brokers pulsed,rabbitmq] [--pulsed PATH]

For each broker (pulsed, then a private RabbitMQ node, started as bench/run.py starts them) and
each reader in turn — pulse-listen (stdout into a pipe that only counts lines), a counting
pulse::Consumer (pulse-bench-consumer) and a pika consumer (bench/pika_consumer.py, a client we
did not write) — pulse-perf publishes 16-byte messages at --rate into the durable topic exchange
exchange/bench/stream; the reader's own queue is bound with 'bench.#'. Each reader acks every
message and has prefetch 100. Figures: sent and received rates over the producer's run, the
reader's queue depth (sampled every 0.5 s: its maximum, and at the end of the run), whether it
kept up, and the CPU of the reader and of the broker.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import brokers  # noqa: E402

REPO = os.path.dirname(HERE)
EXCHANGE = "exchange/bench/stream"
KEY = "bench.stream"
READERS = ["pulse-listen", "pulse::Consumer", "pika"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Reader:
    """A reader process; `count` follows how many messages it has received."""

    def __init__(self, name, tools, broker, applabel):
        self.name, self.count, self.queue = name, 0, None
        self.ready = threading.Event()
        uri = broker.uri()
        if name == "pulse-listen":
            cmd = [tools["listen"], "--uri", uri, "--exchange", EXCHANGE, "--topic", "bench.#",
                   "--applabel", applabel]
        elif name == "pulse::Consumer":
            cmd = [tools["consumer"], uri, EXCHANGE, "bench.#", applabel]
        else:
            cmd = ["/usr/bin/python3", os.path.join(HERE, "pika_consumer.py"), brokers.HOST,
                   str(broker.port), EXCHANGE, "bench.#", applabel]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.err = []
        threading.Thread(target=self._stderr, daemon=True).start()
        counter = self._lines if name == "pulse-listen" else self._counts
        self.reader = threading.Thread(target=counter, daemon=True)
        self.reader.start()

    def _stderr(self):
        for raw in self.proc.stderr:
            line = raw.decode(errors="replace").strip()
            self.err.append(line)
            for prefix in ("pulse-listen: listening on ", "ready "):
                if line.startswith(prefix):
                    self.queue = line[len(prefix):].split(" ")[0]
                    self.ready.set()

    def _lines(self):
        fd = self.proc.stdout.fileno()
        while True:
            data = os.read(fd, 1 << 20)
            if not data:
                return
            self.count += data.count(b"\n")

    def _counts(self):
        for raw in self.proc.stdout:
            parts = raw.split()
            if len(parts) == 2 and parts[0] == b"count":
                self.count = int(parts[1])

    def cpu(self):
        return brokers.cpu_seconds(self.proc.pid)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(5)
        return self.proc.returncode


class DepthSampler:
    """The ready-message count of `queue`, every 0.5 s, through the minimal client."""

    def __init__(self, broker, queue):
        self.samples = []
        self.done = threading.Event()
        self.client = broker.client()
        self.queue = queue
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def depth(self):
        return self.client.queue_declare(self.queue, passive=True)[0]

    def _run(self):
        while not self.done.wait(0.5):
            self.samples.append(self.depth())

    def stop(self):
        self.done.set()
        self.thread.join()
        end = self.depth()
        self.client.close()
        return end, max(self.samples + [end])


def declare_exchange(tools, broker):
    """pulse-publish declares the exchange as Pulse publishers do: durable topic."""
    p = subprocess.run([tools["publish"], "--uri", broker.uri(), "--exchange", EXCHANGE,
                        "--routing-key", "bench.warmup"], input=b"{}\n", capture_output=True,
                       timeout=60)
    if p.returncode != 0:
        raise RuntimeError("pulse-publish: %s" % p.stderr.decode())


def one(tools, broker, name, args, n):
    reader = Reader(name, tools, broker, "bench-stream-%d" % n)
    try:
        if not reader.ready.wait(30):
            raise RuntimeError("%s not ready: %s" % (name, reader.err))
        sampler = DepthSampler(broker, reader.queue)
        cpu_r0, cpu_b0, t0 = reader.cpu(), broker.cpu(), time.time()
        # pulse-perf's own queue would hold the whole stream: x-max-length=0 drops it at once.
        perf = subprocess.run([tools["perf"], "--uri", broker.uri(), "--json", "-x1", "-y0",
                               "-s16", "-r", str(args.rate), "-z", str(args.seconds),
                               "-e", EXCHANGE, "-t", "topic", "-k", KEY,
                               "--queue-args", "x-max-length=0"],
                              capture_output=True, text=True, timeout=args.seconds * 4 + 60)
        received_at_end = reader.count
        wall = time.time() - t0
        cpu_r, cpu_b = reader.cpu() - cpu_r0, broker.cpu() - cpu_b0
        depth_end, depth_max = sampler.stop()
        summary = json.loads(perf.stdout.strip().splitlines()[-1])
        sent, seconds = summary["sent"], summary["duration_s"]
        # Drain: everything sent must arrive (a reader that fell behind catches up here).
        deadline, last, since = time.time() + 60, -1, time.time()
        while reader.count < sent and time.time() < deadline and time.time() - since < 3:
            if reader.count != last:
                last, since = reader.count, time.time()
            time.sleep(0.1)
        rc = reader.stop()
        total = reader.count  # the readers print their final count at exit
        received = min(received_at_end, sent)
        return {
            "reader": name, "sent": sent, "sent_rate": sent / seconds,
            "received_rate": received / seconds, "received_total": total,
            "depth_end": depth_end, "depth_max": depth_max,
            # Kept up: it received (nearly) as fast as the producer sent, and at the end of the
            # run less than 0.1 s of the stream waited in its queue.
            "kept_up": depth_end <= args.rate / 10 and received >= 0.97 * sent,
            "all_received": total >= sent,
            "reader_cpu_pct": 100 * cpu_r / wall, "reader_us_per_msg": 1e6 * cpu_r / max(total, 1),
            "broker_cpu_pct": 100 * cpu_b / wall, "rc": rc,
        }
    finally:
        if reader.proc.poll() is None:
            reader.stop()


def table(rows):
    out = ["| reader | broker | sent msg/s | received msg/s | queue depth max / end | kept up | "
           "all received | reader CPU | reader µs/msg | broker CPU |",
           "| --- | --- | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: |"]
    for r in rows:
        if "error" in r:
            out.append("| %s | %s | failed: %s | | | | | | | |" % (r["reader"], r["broker"],
                                                                   r["error"][:200]))
            continue
        out.append("| %s | %s | %s | %s | %s / %s | %s | %s | %.0f %% | %.2f | %.0f %% |" % (
            r["reader"], r["broker"], "{:,.0f}".format(r["sent_rate"]),
            "{:,.0f}".format(r["received_rate"]), "{:,}".format(r["depth_max"]),
            "{:,}".format(r["depth_end"]), "yes" if r["kept_up"] else "**no**",
            "yes" if r["all_received"] else "**no** (%s of %s)" % (
                "{:,}".format(r["received_total"]), "{:,}".format(r["sent"])),
            r["reader_cpu_pct"], r["reader_us_per_msg"], r["broker_cpu_pct"]))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=int, default=50000, help="msg/s (default 50000)")
    ap.add_argument("--seconds", type=int, default=10, help="producer run per reader")
    ap.add_argument("--brokers", default="pulsed,rabbitmq")
    ap.add_argument("--readers", default=",".join(READERS))
    ap.add_argument("--pulsed", default=os.path.join(REPO, "build", "src", "app", "pulsed"))
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--json", action="store_true", help="also print the rows as JSON")
    args = ap.parse_args()
    build = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(args.pulsed))))
    tools = {
        "perf": os.path.join(build, "tools", "pulse-perf", "pulse-perf"),
        "listen": os.path.join(build, "tools", "pulse-listen", "pulse-listen"),
        "publish": os.path.join(build, "tools", "pulse-publish", "pulse-publish"),
        "consumer": os.path.join(build, "bench", "pulse-bench-consumer"),
    }
    for path in [args.pulsed] + list(tools.values()):
        if not os.access(path, os.X_OK):
            ap.error("not executable: %s (build pulsed pulse-perf pulse-listen pulse-publish "
                     "pulse-bench-consumer)" % path)
    names = [b.strip() for b in args.brokers.split(",") if b.strip()]
    readers = [r.strip() for r in args.readers.split(",") if r.strip()]

    def interrupted(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, interrupted)
    rows = []
    epmd = brokers.Epmd() if "rabbitmq" in names else None
    try:
        for name in names:
            b = (brokers.Pulsed(args.workdir, os.path.abspath(args.pulsed)) if name == "pulsed"
                 else brokers.Rabbit(args.workdir, epmd))
            try:
                log("%s started in %.1f s (port %d)" % (name, b.start(), b.port))
                declare_exchange(tools, b)
                for n, reader in enumerate(readers):
                    log("  %s: %d msg/s for %d s" % (reader, args.rate, args.seconds))
                    try:
                        row = one(tools, b, reader, args, n)
                    except Exception as e:  # noqa: BLE001 (report, go on with the next)
                        row = {"reader": reader, "error": str(e)}
                    row["broker"] = name
                    log("    %s" % row)
                    rows.append(row)
            finally:
                b.stop()
    finally:
        if epmd:
            epmd.stop()
    print(table(rows))
    if args.json:
        print(json.dumps(rows))
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
