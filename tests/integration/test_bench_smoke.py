"""bench/run.py works: a quick one-round run of scenario 1 (and of 1 over AMQPS, with pulse-perf
and with pika, and of 10 with rabbitmq-c) against pulsed and a private RabbitMQ node prints the
comparison table and writes the results file.

Speed is not asserted (the machine is shared); only that both brokers were measured, that the
figures are plausible numbers and that the table and the results file have their shape."""
import json
import os
import re
import subprocess

import pytest

from harness.broker import REPO, pulsed_binary

# It starts both brokers itself, so one target is enough.
pytestmark = pytest.mark.pulsed_only

NUMBER = r"[0-9][0-9,]*(?:\.[0-9]+)?"


def test_quick_scenario_1(tmp_path):
    pulsed = os.path.abspath(pulsed_binary())
    build = os.path.dirname(os.path.dirname(os.path.dirname(pulsed)))
    perf = os.environ.get("PULSE_PERF_BIN",
                          os.path.join(build, "tools", "pulse-perf", "pulse-perf"))
    out = tmp_path / "RESULTS.md"
    p = subprocess.run(
        ["/usr/bin/python3", os.path.join(REPO, "bench", "run.py"), "--quick",
         "--scenarios", "1,1tls,1tls-pika,10", "--rounds", "1", "--pulsed", pulsed, "--perf", perf,
         "--out", str(out), "--workdir", str(tmp_path)],
        capture_output=True, text=True, timeout=240)
    assert p.returncode == 0, p.stdout + p.stderr[-3000:]

    lines = p.stdout.splitlines()
    assert lines[0].startswith("| figure | unit | pulsed | RabbitMQ | ratio"), p.stdout
    row = [line for line in lines if line.startswith("| 1 · 1P/1C")]
    assert len(row) == 1, p.stdout
    cells = [c.strip() for c in row[0].strip("|").split("|")]
    assert len(cells) == 7, cells
    _label, unit, pulsed_rate, rabbit_rate, ratio, pulsed_cpu, rabbit_cpu = cells
    assert unit == "msg/s"
    for value in (pulsed_rate, rabbit_rate, pulsed_cpu, rabbit_cpu):
        assert re.fullmatch(NUMBER, value), cells
        assert float(value.replace(",", "")) > 0, cells
    assert re.fullmatch(NUMBER + "×", ratio), cells
    # Scenario 1 over AMQPS: RabbitMQ's TLS listener is always measured; pulsed's when its
    # build has an AMQPS listener, else the table says n/a and why.
    tls_row = [line for line in lines if line.startswith("| 1 · over TLS (AMQPS)")]
    assert len(tls_row) == 1, p.stdout
    cells = [c.strip() for c in tls_row[0].strip("|").split("|")]
    _label, unit, pulsed_rate, rabbit_rate, ratio, pulsed_cpu, rabbit_cpu = cells
    assert unit == "msg/s"
    for value in (rabbit_rate, rabbit_cpu):
        assert re.fullmatch(NUMBER, value) and float(value.replace(",", "")) > 0, cells
    if pulsed_rate == "—":
        assert (pulsed_cpu, ratio) == ("—", "—"), cells
        assert "pulsed: n/a (no AMQPS listener in this build)" in p.stdout
    else:
        assert re.fullmatch(NUMBER, pulsed_rate) and re.fullmatch(NUMBER, pulsed_cpu), cells
    # 1 driven by pika over AMQPS (publisher waiting for each confirm, and without confirms):
    # measured on RabbitMQ, on pulsed as 1tls is; nothing lost (no "## Failures" below)
    pika_rows = [line for line in lines if line.startswith("| 1 · pika, over TLS (AMQPS)")]
    assert len(pika_rows) == 2, p.stdout
    for line in pika_rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert re.fullmatch(NUMBER, cells[3]) and re.fullmatch(NUMBER, cells[6]), cells
        assert cells[2] == "—" if pulsed_rate == "—" else re.fullmatch(NUMBER, cells[2]), cells
    # 10: rabbitmq-c, a client we did not write, one publish per call: both brokers measured,
    # with the client's CPU per message beside the broker's
    for prefix in ("| 10 · rabbitmq-c 1P/1C, 16 B", "| 10 · rabbitmq-c 1P/1C: client CPU"):
        rows10 = [line for line in lines if line.startswith(prefix)]
        assert len(rows10) == 1, p.stdout
        cells = [c.strip() for c in rows10[0].strip("|").split("|")]
        for value in cells[2:4]:
            assert re.fullmatch(NUMBER, value) and float(value.replace(",", "")) > 0, cells
    # the two S1 targets are judged (met or missed), nothing else was measured
    assert "S1 consumed rate ≥ 4× RabbitMQ's" in p.stdout
    assert "S1 broker CPU ≤ 2.3 µs/msg" in p.stdout
    assert "S3 ≥ 120k" not in p.stdout
    assert "(18) rabbitmq-c consumed rate ≥ 3× RabbitMQ's" in p.stdout
    assert "(18) rabbitmq-c client CPU per message" in p.stdout

    text = out.read_text()
    for needle in ("# Benchmark results", "`uname -a`: Linux", "RabbitMQ 3.", "Erlang/OTP",
                   "load average", "## Targets", "## All figures", "## Every round",
                   row[0].split("|")[1].strip()):
        assert needle in text, needle
    assert "## Failures" not in text, text
    # the brokers' directories are gone
    assert [d for d in os.listdir(tmp_path) if d.startswith("pulse-bench-")] == []


def test_sink_relays_to_a_consumer():
    """The sink's relay (scenario 6's latency floor) hands every published message to the
    consumer once, in order: pulse-perf verifies sequence numbers and measures latency."""
    pulsed = os.path.abspath(pulsed_binary())
    build = os.path.dirname(os.path.dirname(os.path.dirname(pulsed)))
    perf = os.environ.get("PULSE_PERF_BIN",
                          os.path.join(build, "tools", "pulse-perf", "pulse-perf"))
    sink = subprocess.Popen([os.path.join(build, "bench", "pulse-bench-sink"), "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        port = int(sink.stdout.readline().split()[-1])
        p = subprocess.run(
            [perf, "--uri", "amqp://guest:guest@127.0.0.1:%d/%%2F" % port, "-x1", "-y1",
             "-s16", "-a", "-l", "-C", "2000", "--json"],
            capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stdout + p.stderr
        s = json.loads(p.stdout)
        assert (s["sent"], s["received"], s["lost"], s["duplicated"]) == (2000, 2000, 0, 0), s
        assert s["latency_us"]["samples"] == 2000, s["latency_us"]
    finally:
        sink.kill()
        sink.wait()


def test_stream_readers_quick(tmp_path):
    """bench/stream.py (issue 12): a slow stream into each of its three readers, against pulsed;
    each must receive every message and report its figures (not judged here)."""
    pulsed = os.path.abspath(pulsed_binary())
    p = subprocess.run(
        ["/usr/bin/python3", os.path.join(REPO, "bench", "stream.py"), "--brokers", "pulsed",
         "--rate", "2000", "--seconds", "2", "--pulsed", pulsed, "--workdir", str(tmp_path),
         "--json"],
        capture_output=True, text=True, timeout=240)
    assert p.returncode == 0, p.stdout + p.stderr[-3000:]
    lines = p.stdout.splitlines()
    assert lines[0].startswith("| reader | broker | sent msg/s | received msg/s"), p.stdout
    rows = json.loads(lines[-1])
    assert [r["reader"] for r in rows] == ["pulse-listen", "pulse::Consumer", "pika"]
    for r in rows:
        assert r["broker"] == "pulsed" and r["rc"] == 0, r
        assert 3000 <= r["sent"] <= 5000, r
        assert r["received_total"] == r["sent"] and r["all_received"], r
        # Whether it kept up is a figure of the loaded machine, not a pass/fail (speed is judged
        # from bench runs, never in a timed test): only that it is reported.
        assert isinstance(r["kept_up"], bool) and r["depth_max"] >= r["depth_end"] >= 0, r
        assert r["reader_cpu_pct"] > 0, r
    assert len([line for line in lines if line.startswith("| pulse")]) == 2, p.stdout
    assert [d for d in os.listdir(tmp_path) if d.startswith("pulse-bench-")] == []
