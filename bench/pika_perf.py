#!/usr/bin/python3
"""Scenarios 1-pika and 1tls-pika: scenario 1 driven by pika (a client we did not write), over
plain AMQP and over AMQPS. pulse-perf batches far more than users' clients do; this is what a
pika user gets. See bench/README.md.

Per broker and scenario, two runs, each a pika BlockingConnection publisher process and a pika
consumer process (basic_consume, auto_ack) on one transient queue, 16 B transient messages
carrying a sequence number:
  - "confirm each": confirm_delivery(), so every basic_publish waits for its confirm;
  - "no confirms": the publisher writes as fast as pika lets it.
Figure: messages consumed while the publisher ran / its duration; broker CPU per message
consumed. After the publisher stops the consumer drains for up to DRAIN s, then cancels (pika
hands back what arrived before cancel-ok); it checks the sequence (no duplicate, no gap) and
what it received + what is left in the queue must equal what was sent.

As workers (run by the scenarios, one process each):
    pika_perf.py pub HOST PORT QUEUE SECONDS CONFIRM [CAFILE]
    pika_perf.py sub HOST PORT QUEUE [CAFILE]
"""
import json
import resource
import signal
import struct
import subprocess
import sys
import threading
import time

import scenarios

PYTHON = "/usr/bin/python3"  # Debian's, with python3-pika
DRAIN = 3.0


# -- workers ----------------------------------------------------------------------------------
def _connect(host, port, cafile):
    import pika
    import ssl
    params = dict(host=host, port=int(port), heartbeat=0,
                  credentials=pika.PlainCredentials("guest", "guest"))
    if cafile:  # verify the chain and the name "localhost", as a real client would
        ctx = ssl.create_default_context(cafile=cafile)
        params["ssl_options"] = pika.SSLOptions(ctx, server_hostname="localhost")
    return pika.BlockingConnection(pika.ConnectionParameters(**params))


def _cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def publisher(host, port, queue, seconds, confirm, cafile=None):
    conn = _connect(host, port, cafile)
    ch = conn.channel()
    if confirm == "1":
        ch.confirm_delivery()  # basic_publish now returns once the broker confirmed it
    pad = b"\0" * 8
    n, cpu0 = 0, _cpu()
    t0 = time.monotonic()
    end = t0 + float(seconds)
    while True:
        for _ in range(64):
            ch.basic_publish("", queue, struct.pack(">Q", n) + pad)
            n += 1
        if time.monotonic() >= end:
            break
    elapsed = time.monotonic() - t0
    print(json.dumps({"sent": n, "elapsed": elapsed, "cpu_us": (_cpu() - cpu0) * 1e6 / n}),
          flush=True)
    conn.close()


def consumer(host, port, queue, cafile=None):
    """stdout: "ready", then "count N" every 0.1 s, then a JSON summary after SIGTERM.
    SIGUSR1 marks the end of the publisher's run (the count at that moment is the figure)."""
    st = {"n": 0, "next": 0, "dup": 0, "gap": 0, "mark": None, "stop": False}

    def got(body):
        seq = struct.unpack_from(">Q", body)[0]
        st["n"] += 1
        if seq == st["next"]:
            st["next"] += 1
        elif seq < st["next"]:
            st["dup"] += 1
        else:
            st["gap"] += seq - st["next"]
            st["next"] = seq + 1
    signal.signal(signal.SIGUSR1, lambda *_: st.update(mark=st["n"]))
    signal.signal(signal.SIGTERM, lambda *_: st.update(stop=True))
    conn = _connect(host, port, cafile)
    ch = conn.channel()
    tag = ch.basic_consume(queue, lambda _c, _m, _p, body: got(body), auto_ack=True)
    print("ready", flush=True)
    cpu0 = _cpu()
    last = 0.0
    while not st["stop"]:
        conn.process_data_events(time_limit=0.05)
        if time.monotonic() - last >= 0.1:
            last = time.monotonic()
            print("count %d" % st["n"], flush=True)
    pending = ch.basic_cancel(tag)  # auto_ack: what arrived before cancel-ok comes back here
    for _ch, _method, _props, body in pending:
        got(body)
    cpu = _cpu() - cpu0
    conn.close()
    print(json.dumps({"received": st["n"], "mark": st["mark"], "next": st["next"],
                      "duplicated": st["dup"], "gaps": st["gap"], "pending": len(pending),
                      "cpu_us": cpu * 1e6 / max(1, st["n"])}), flush=True)


# -- scenarios (run.py) -------------------------------------------------------------------------
class _Consumer:
    """The consumer process; a thread keeps its latest count."""

    def __init__(self, args):
        self.proc = subprocess.Popen([PYTHON, __file__, "sub"] + args, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     start_new_session=True)
        self.count, self.summary = 0, None
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("pika consumer did not start:\n" + self.proc.stderr.read()[-1500:])
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            if line.startswith("count "):
                self.count = int(line.split()[1])
            elif line.startswith("{"):
                self.summary = json.loads(line)

    def finish(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=120)  # stdout is the reader thread's: no communicate()
        self.reader.join(timeout=10)
        err = self.proc.stderr.read()
        if self.proc.returncode != 0 or not self.summary:
            raise RuntimeError("pika consumer rc=%s\n%s" % (self.proc.returncode, err[-1500:]))
        return self.summary


def _run(ctx, b, key, label, tls, confirm):
    queue = "bench.pika.%s.%d" % (key, int(time.time() * 1000) % 10**9)
    host, port = ("127.0.0.1", b.tls_port) if tls else ("127.0.0.1", b.port)
    tail = [b.certs.ca] if tls else []
    with b.client() as c:
        c.queue_declare(queue)
    cons, pub, timer = _Consumer([host, str(port), queue] + tail), None, None
    try:
        cpu0 = b.cpu()
        ctx.log("    $ pika_perf.py pub %s%s" % ("(TLS) " if tls else "", key))
        pub = subprocess.Popen([PYTHON, __file__, "pub", host, str(port), queue,
                                str(ctx.seconds), "1" if confirm else "0"] + tail,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        timer = threading.Timer(ctx.seconds * 6 + 120, pub.kill)  # a publisher that hangs
        timer.start()
        line = pub.stdout.readline()  # written as its run ends, before it closes
        cons.proc.send_signal(signal.SIGUSR1)
        _out, err = pub.communicate(timeout=120)
        if pub.returncode != 0 or not line.startswith("{"):
            raise scenarios.PerfFailed("pika publisher rc=%d\n%s" % (pub.returncode, err[-1500:]))
        p = json.loads(line)
        deadline = time.time() + (1.0 if ctx.quick else DRAIN)
        while cons.count < p["sent"] and time.time() < deadline:
            time.sleep(0.05)
        s = cons.finish()
        cpu = b.cpu() - cpu0
    finally:
        if timer:
            timer.cancel()
        for proc in (cons.proc, pub):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    with b.client() as c:
        left, _ = c.queue_declare(queue, passive=True)
        c.queue_delete(queue)
    problems = []
    if s["duplicated"] or s["gaps"]:
        problems.append("%d duplicated, %d missing in the sequence" % (s["duplicated"], s["gaps"]))
    if s["received"] + left != p["sent"]:
        problems.append("sent %d, received %d, %d left in the queue: %d lost" % (
            p["sent"], s["received"], left, p["sent"] - s["received"] - left))
    if problems:
        raise scenarios.PerfFailed("%s %s: %s" % (key, b.name, "; ".join(problems)))
    rate = (s["mark"] if s["mark"] is not None else s["received"]) / p["elapsed"]
    cpu_us = cpu * 1e6 / s["received"] if s["received"] else None
    ctx.results.record(key, label, "msg/s", "higher", b.name, rate, cpu_us)
    ctx.log("    %s: %.0f msg/s consumed (sent %.0f msg/s; %d received after the run, %d left), "
            "broker %.2f µs/msg, pika publisher %.1f µs/msg, consumer %.1f µs/msg"
            % (b.name, rate, p["sent"] / p["elapsed"], s["received"] - (s["mark"] or 0), left,
               cpu_us or 0, p["cpu_us"], s["cpu_us"]))


LABEL = "1 · pika%s: 1P/1C (BlockingConnection, two processes), 16 B, transient, auto-ack, %s: " \
        "consumed"


def _both(ctx, b, tls):
    if tls and not scenarios._tls_ready(ctx, b):
        return
    where, key = (", over TLS (AMQPS)", "1.pika.tls") if tls else ("", "1.pika")
    for suffix, confirm, what in (("c", True, "publisher waits for each confirm"),
                                  ("n", False, "no confirms")):
        try:  # a failed run is listed; the other one still runs
            _run(ctx, b, "%s.%s" % (key, suffix), LABEL % (where, what), tls, confirm)
        except Exception as e:  # noqa: BLE001
            ctx.log("    FAILED %s.%s %s: %s" % (key, suffix, b.name, e))
            ctx.results.error("%s.%s %s" % (key, suffix, b.name), str(e))


def s1_pika(ctx, b):
    _both(ctx, b, tls=False)


def s1_tls_pika(ctx, b):
    _both(ctx, b, tls=True)


SCENARIOS = {"1-pika": s1_pika, "1tls-pika": s1_tls_pika}
TLS_SCENARIOS = ("1tls-pika",)


if __name__ == "__main__":
    if sys.argv[1:2] == ["pub"]:
        publisher(*sys.argv[2:])
    elif sys.argv[1:2] == ["sub"]:
        consumer(*sys.argv[2:])
    else:
        sys.exit(__doc__)
