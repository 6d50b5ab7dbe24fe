"""pulse-perf (tools/pulse-perf) against the broker: short load runs that must verify cleanly,
a run that must detect loss, errors, churn and idle-connection scenarios.

Speed is not asserted here (that is bench/'s job); these check that the tool's counts and its
loss/duplicate verdicts are right on both brokers.
"""
import json
import subprocess

import pika
import pytest

from harness.broker import built_tool


@pytest.fixture(scope="module")
def perf():
    return built_tool("PULSE_PERF_BIN", "pulse-perf")


def run(perf, broker, *args, timeout=90, uri=None):
    cmd = [perf, "--uri", uri or broker.url()] + [str(a) for a in args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def run_json(perf, broker, *args, expect_rc=0, **kw):
    p = run(perf, broker, "--json", *args, **kw)
    assert p.returncode == expect_rc, "rc=%s\nstdout:\n%s\nstderr:\n%s" % (
        p.returncode, p.stdout, p.stderr)
    lines = [line for line in p.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, p.stdout  # nothing but the JSON object on stdout
    return json.loads(lines[0])


def assert_clean(s):
    assert s["ok"], s
    assert s["errors"] == []
    assert s["verified"]
    assert s["lost"] == 0 and s["duplicated"] == 0 and s["impossible"] == 0
    assert s["sent"] > 0


def queue_exists(broker, name):
    c = broker.connect()
    try:
        c.channel().queue_declare(name, passive=True)
        return True
    except pika.exceptions.ChannelClosedByBroker as e:
        assert e.reply_code == 404
        return False
    finally:
        if c.is_open:
            c.close()


def test_transient_autoack(perf, broker):
    s = run_json(perf, broker, "-x1", "-y1", "-s16", "-a", "-z1")
    assert_clean(s)
    assert s["received"] == s["sent"]
    assert s["settings"]["auto_ack"] is True and s["settings"]["size"] == 16
    assert s["sent_rate"] > 0 and s["received_rate"] > 0
    assert s["latency_us"] is None
    assert s["cpu_s"] > 0 and s["cpu_us_per_msg"] > 0


def test_manual_multi_ack_with_prefetch(perf, broker):
    s = run_json(perf, broker, "-x2", "-y2", "-q", "50", "-A", "10", "-s", "100", "-z1")
    assert_clean(s)
    assert s["received"] == s["sent"]
    assert s["settings"]["prefetch"] == 50 and s["settings"]["multi_ack"] == 10


def test_ack_every_message(perf, broker):
    s = run_json(perf, broker, "-x1", "-y1", "-q", "10", "-C", "3000")
    assert_clean(s)
    assert s["sent"] == s["received"] == 3000


def test_persistent_with_confirms(perf, broker):
    s = run_json(perf, broker, "-x1", "-y1", "-p", "-c", "200", "-q", "200", "-A", "50", "-z1")
    assert_clean(s)
    assert s["settings"]["persistent"] is True and s["settings"]["confirm"] == 200
    assert s["confirmed"] == s["sent"]
    assert s["nacked"] == 0 and s["unconfirmed"] == 0
    assert s["received"] == s["sent"]


def test_fanout_to_several_queues(perf, broker, uname):
    s = run_json(perf, broker, "-x1", "-y3", "--queues", "3", "-e", uname("perf.fan"),
                 "-t", "fanout", "-a", "-z1")
    assert_clean(s)
    assert s["settings"]["queues"] == 3
    assert s["received"] == 3 * s["sent"]


def test_fanout_by_routing_key_on_amq_direct(perf, broker):
    s = run_json(perf, broker, "-x2", "-y2", "--queues", "2", "-C", "2000")
    assert_clean(s)
    assert s["sent"] == 4000
    assert s["received"] == 8000


def test_spread_over_queues(perf, broker):
    s = run_json(perf, broker, "-x2", "-y2", "--queues", "2", "--spread", "-a", "-z1")
    assert_clean(s)
    assert s["received"] == s["sent"]


def test_default_exchange(perf, broker):
    s = run_json(perf, broker, "-e", "", "-x1", "-y1", "-C", "1000")
    assert_clean(s)
    assert s["received"] == 1000


def test_latency_percentiles(perf, broker):
    s = run_json(perf, broker, "-x1", "-y1", "-l", "-r", "2000", "-a", "-z1")
    assert_clean(s)
    lat = s["latency_us"]
    assert lat["samples"] == s["received"]
    assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]
    assert lat["p99"] < 5e6  # µs: a rate-limited run on loopback is far below 5 s


def test_text_output(perf, broker):
    p = run(perf, broker, "-x1", "-y1", "-a", "-l", "-z", "2", "-i", "0.5")
    assert p.returncode == 0, p.stdout + p.stderr
    progress = [line for line in p.stdout.splitlines() if line.startswith("time ")]
    assert len(progress) >= 3, p.stdout
    assert "received" in progress[0] and "latency p50" in progress[0]
    assert "summary (load)" in p.stdout
    assert p.stdout.rstrip().endswith("OK")


def test_detects_loss(perf, broker):
    """A slow consumer on a queue that drops its head must make pulse-perf report loss."""
    s = run_json(perf, broker, "-x1", "-y1", "-q1", "-L", "2000", "-r", "2000", "-z1",
                 "--queue-args", "x-max-length=10,x-overflow=drop-head",
                 "--drain-timeout", "1", expect_rc=1)
    assert not s["ok"]
    assert s["verified"]
    assert s["lost"] > 0
    assert s["received"] + s["lost"] == s["sent"]
    assert s["duplicated"] == 0


def test_nacked_publishes_are_not_loss(perf, broker):
    """reject-publish nacks what the queue refuses: those are not expected, nothing is lost."""
    s = run_json(perf, broker, "-x1", "-y1", "-q1", "-L", "2000", "-c", "50", "-z1",
                 "--queue-args", "x-max-length=10,x-overflow=reject-publish",
                 "--drain-timeout", "1")
    assert s["ok"], s
    assert s["nacked"] > 0
    assert s["confirmed"] + s["nacked"] == s["sent"]
    assert s["lost"] == 0


def test_named_queue_is_kept_or_created_and_removed(perf, broker, uname, ch):
    created = uname("perf.created")
    s = run_json(perf, broker, "-u", created, "-C", "100")
    assert_clean(s)
    assert not queue_exists(broker, created)  # declared by the run, deleted after it
    existing = uname("perf.existing")
    ch.queue_declare(existing)
    # Leftovers of some other run: counted as foreign, not as duplicates or loss.
    ch.basic_publish("", existing, b"\x00" * 16)
    s = run_json(perf, broker, "-u", existing, "-C", "100")
    assert_clean(s)
    assert s["foreign"] == 1
    assert queue_exists(broker, existing)
    ch.queue_delete(existing)


def test_consumer_only_with_count(perf, broker, uname, ch):
    q = uname("perf.prefilled")
    ch.queue_declare(q)
    for i in range(100):
        ch.basic_publish("", q, b"not a pulse-perf body %d" % i)
    s = run_json(perf, broker, "-x0", "-y1", "-u", q, "-D", "100", "-z", "20")
    assert s["ok"], s
    assert s["received"] == 100 and s["foreign"] == 100
    assert not s["verified"]
    assert ch.queue_declare(q, passive=True).method.message_count == 0
    ch.queue_delete(q)


def test_missing_exchange_is_an_error(perf, broker):
    p = run(perf, broker, "-e", "amq.no-such-exchange", "-z1")
    assert p.returncode == 1
    assert "NOT_FOUND - no exchange 'amq.no-such-exchange' in vhost '/'" in p.stdout


def test_refused_login_is_an_error(perf, broker):
    p = run(perf, broker, "-z1", uri=broker.url(password="wrong"))
    assert p.returncode == 1
    assert "ACCESS_REFUSED" in p.stdout


@pytest.mark.parametrize("args", [["-s", "4"], ["--queues", "2", "-e", ""], ["-f", "bogus"],
                                  ["--churn", "nonsense"], ["--uri", "http://x"]])
def test_usage_errors(perf, broker, args):
    p = subprocess.run([perf] + args, capture_output=True, text=True, timeout=30)
    # 2 from pulse-perf's own checks, CLI11's codes (>= 100) for flags it rejects; never 0 or 1.
    assert p.returncode not in (0, 1), p


@pytest.mark.parametrize("kind", ["declare", "bind", "connect", "channel"])
def test_churn(perf, broker, kind):
    s = run_json(perf, broker, "--churn", kind, "-x2", "-z1")
    assert s["ok"], s
    assert s["scenario"] == "churn-" + kind
    assert s["operations"] > 0 and s["operations_rate"] > 0


def test_idle_connections_and_queues_alongside_load(perf, broker):
    s = run_json(perf, broker, "--connections", "50", "--idle-queues", "20", "-x1", "-y1", "-a",
                 "-z1")
    assert_clean(s)
    assert s["idle_connections"] == 50 and s["idle_connections_lost"] == 0
    assert s["idle_queues"] == 20


def test_hold_idle_connections(perf, broker):
    s = run_json(perf, broker, "-x0", "-y0", "--connections", "200", "-z", "2")
    assert s["ok"], s
    assert s["scenario"] == "connections"
    assert s["idle_connections"] == 200 and s["idle_connections_lost"] == 0


def test_queue_deleted_under_the_consumer(perf, broker, uname, ch):
    """The server's basic.cancel (consumer_cancel_notify) fails the run with a clear error."""
    import time
    q = uname("perf.deleted")
    ch.queue_declare(q)
    p = subprocess.Popen([perf, "--uri", broker.url(), "-u", q, "-r", "1000", "-z", "20"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)
        ch.queue_delete(q)
        out, _ = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 1
    assert "consumer 0: cancelled by the server" in out
