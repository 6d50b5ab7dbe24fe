"""pulse-logparser as a service runs it, on pulsed and on RabbitMQ (`pulse_target`): normalized
test messages published with kombu on exchange/build/normalized, logs served by a local HTTP
server (plain, gzip Content-Encoding, a raw .gz file, a 500 then 200, one over --max-log-bytes,
a 404), and a kombu consumer on exchange/logparser/v1 that checks the exact routing keys, the
Pulse envelope and the failure lists. Killing the tool mid-stream and starting it again loses
no job (inputs are acked only after their summary's confirm)."""
import gzip
import http.server
import json
import os
import re
import signal
import ssl
import subprocess
import threading
import time
import uuid

import kombu
import pytest
from kombu import Connection, Exchange, Queue, binding

from harness.broker import built_tool
from harness.certs import certs
from harness.util import wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
LOGS = os.path.join(HERE, "..", "data", "logparser")
RFC3339_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


def fixture_log(name):
    with open(os.path.join(LOGS, name), "rb") as f:
        return f.read()


@pytest.fixture(scope="module")
def logparser():
    return built_tool("PULSE_LOGPARSER_BIN", "pulse-logparser")


class LogServer:
    """Serves logs from a dict path -> (status, headers, body) or a callable; counts hits."""

    def __init__(self, tls=None):
        self.routes, self.hits, self.accept = {}, {}, {}
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                server.accept[self.path] = self.headers.get("Accept-Encoding", "")
                route = server.routes.get(self.path)
                if route is None:
                    status, headers, body = 404, {}, b"not found"
                elif callable(route):
                    status, headers, body = route(server.hits[self.path])
                else:
                    status, headers, body = route
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.scheme = "http"
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path):
        return "%s://127.0.0.1:%d%s" % (self.scheme, self.httpd.server_address[1], path)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = LogServer()
    yield s
    s.close()


class Tool:
    """pulse-logparser in the background; stderr lines collected as they come."""

    def __init__(self, binary, args):
        self.proc = subprocess.Popen([binary] + args, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.err = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for raw in self.proc.stderr:
            self.err.append(raw.decode(errors="replace").rstrip("\n"))

    def wait_consuming(self):
        wait_for(lambda: any("event=consuming" in l for l in self.err) or
                 self.proc.poll() is not None, timeout=20, msg="the tool to consume")
        assert self.proc.poll() is None, "\n".join(self.err)

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


class Summaries:
    """mozillapulse's consumer: a queue bound to the output exchange, JSON messages."""

    def __init__(self, url, exchange):
        self.conn = Connection(url)
        self.conn.connect()
        ch = self.conn.channel()
        Exchange(exchange, type="topic", durable=True, channel=ch).declare()
        self.queue = Queue(name="queue/alice/lp-out-%s" % uuid.uuid4().hex[:8],
                           bindings=[binding(Exchange(exchange, type="topic", passive=True),
                                             routing_key="#")],
                           auto_delete=True, channel=ch)
        self.queue.declare()
        self.received = []
        self.consumer = kombu.Consumer(ch, queues=[self.queue], callbacks=[self._on],
                                       auto_declare=False, accept=["json"])
        self.consumer.consume()

    def _on(self, body, message):
        self.received.append((message.delivery_info["routing_key"], body, message))
        message.ack()

    def drain_until(self, pred, timeout=30):
        deadline = time.time() + timeout
        while not pred():
            left = deadline - time.time()
            assert left > 0, "timed out; got %r" % [r[0] for r in self.received]
            try:
                self.conn.drain_events(timeout=min(left, 0.5))
            except Exception:  # socket.timeout
                pass
        return self.received

    def idle(self, seconds):
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                self.conn.drain_events(timeout=max(0.01, deadline - time.time()))
            except Exception:  # socket.timeout
                pass

    def close(self):
        self.conn.release()


def normalized(tree, platform, os_, buildtype, test, logurl, number, talos=False):
    """What pulse-translator publishes for a finished test job (pulse-reference.md)."""
    return {"key": "%s.%s.%s.%s.%s.%s.firefox.finished" % (
                "talos" if talos else "unittest", tree, platform, os_, buildtype, test),
            "tree": tree, "platform": platform, "os": os_, "buildtype": buildtype,
            "test": test, "talos": talos, "product": "firefox",
            "buildername": "%s %s %s test %s" % (platform, tree, buildtype, test),
            "build_number": number, "buildid": "20141201020203", "job_number": 0,
            "revision": "0b2c5f3a7d6e", "logurl": logurl, "status": 1,
            "slave": "tst-linux64-spot-%d" % number, "timestamp": "2014-12-01T03:40:15Z",
            "locale": "en-US", "builddate": 1417431312, "release": None}


def publish_normalized(url, exchange, messages):
    """mozillapulse's publisher: the envelope, persistent, on a durable topic exchange."""
    with Connection(url) as conn:
        ex = Exchange(exchange, type="topic", durable=True)
        producer = conn.Producer(exchange=ex, serializer="json")
        ex(conn.default_channel).declare()
        for payload in messages:
            key = payload["key"]
            body = {"payload": payload,
                    "_meta": {"exchange": exchange, "routing_key": key, "serializer": "json",
                              "sent": "2014-12-01T03:40:16+00:00"}}
            producer.publish(body, routing_key=key, delivery_mode=2)


def cleanup(pulse_target, exchanges, queues):
    try:
        pulse_target.delete(exchanges=exchanges, queues=queues)
    except Exception:
        pass


def test_summaries_for_each_kind_of_log(pulse_target, server, logparser):
    mochitest, crash = fixture_log("mochitest.log"), fixture_log("crash.log")
    server.routes = {
        "/logs/plain.txt": (200, {"Content-Type": "text/plain"}, mochitest),
        "/logs/encoded.txt": (200, {"Content-Encoding": "gzip", "Content-Type": "text/plain"},
                              gzip.compress(crash)),
        "/logs/raw.txt.gz": (200, {"Content-Type": "application/x-gzip"},
                             gzip.compress(fixture_log("leak.log"))),
        "/logs/flaky.txt": lambda n: ((500, {}, b"busy") if n == 1
                                      else (200, {}, fixture_log("xpcshell.log"))),
        "/logs/big.txt": (200, {}, b"x" * 5000),
        # Archived logs move: a redirect to a path on the same server.
        "/logs/moved.txt": (302, {"Location": "/archive/reftest.txt"}, b""),
        "/archive/reftest.txt": (200, {}, fixture_log("reftest.log")),
    }
    tag = uuid.uuid4().hex[:8]
    queue = "queue/alice/logparser-%s" % tag
    url = pulse_target.uri()
    # The well-known exchanges, as the service uses them.
    src, out = "exchange/build/normalized", "exchange/logparser/v1"
    jobs = [normalized("mozilla-central", "linux64", "ubuntu64_vm", "opt", "mochitest-3",
                       server.url("/logs/plain.txt"), 1),
            normalized("mozilla-inbound", "linux64", "ubuntu64_vm", "debug", "mochitest-media",
                       server.url("/logs/encoded.txt"), 2),
            normalized("try", "macosx64", "yosemite", "debug", "mochitest-bc",
                       server.url("/logs/raw.txt.gz"), 3),
            normalized("fx-team", "win32", "xp-ix", "opt", "xpcshell",
                       server.url("/logs/flaky.txt"), 4),
            normalized("mozilla-central", "android-api-15", "android", "opt", "reftest.1",
                       server.url("/logs/big.txt"), 5),
            normalized("mozilla-central", "linux64", "ubuntu64_vm", "pgo", "tp5o",
                       server.url("/logs/missing.txt"), 6, talos=True),
            normalized("mozilla-aurora", "linux", "ubuntu32_vm", "opt", "reftest",
                       server.url("/logs/moved.txt"), 7)]
    pulse_target.declare_exchange(src)
    summaries = Summaries(url, out)
    tool = Tool(logparser, ["--uri", url, "--queue", queue, "--jobs", "3", "--max-log-bytes",
                            "4096", "--retry-delay", "50", "--fetch-attempts", "3"])
    try:
        tool.wait_consuming()
        # A build message is not bound (unittest.# and talos.# only).
        build = dict(jobs[0], key="build.mozilla-central.linux64.opt.finished")
        publish_normalized(url, src, [build] + jobs)
        got = summaries.drain_until(lambda: len(summaries.received) >= len(jobs))
        summaries.idle(0.5)  # nothing more comes (no summary of the unbound build message)
        by_key = {k: (b, m) for k, b, m in got}
        assert sorted(by_key) == sorted([
            "mozilla-central.linux64.opt.mochitest-3",
            "mozilla-inbound.linux64.debug.mochitest-media",
            "try.macosx64.debug.mochitest-bc",
            "fx-team.win32.opt.xpcshell",
            "mozilla-central.android-api-15.opt.reftest_1",
            "mozilla-central.linux64.pgo.tp5o",
            "mozilla-aurora.linux.opt.reftest"]), [k for k, _, _ in got]
        assert len(got) == len(jobs)
        for key, (body, message) in by_key.items():
            assert message.content_type == "application/json"
            assert message.properties.get("delivery_mode") == 2
            meta = body["_meta"]
            assert (meta["exchange"], meta["routing_key"], meta["serializer"]) == (out, key, "json")
            assert RFC3339_OFFSET.match(meta["sent"]), meta["sent"]

        p = by_key["mozilla-central.linux64.opt.mochitest-3"][0]["payload"]
        assert {k: p[k] for k in ("tree", "platform", "os", "buildtype", "test", "buildername",
                                  "build_number", "buildid", "revision", "logurl", "status")} == {
            k: jobs[0][k] for k in ("tree", "platform", "os", "buildtype", "test", "buildername",
                                    "build_number", "buildid", "revision", "logurl", "status")}
        assert p["job_key"] == jobs[0]["key"]
        assert p["failures"] == [
            {"line": 15, "kind": "unexpected-fail", "test": "dom/base/test/test_bug123456.html",
             "message": 'attribute should be set - got null, expected "x"'},
            {"line": 19, "kind": "unexpected-timeout",
             "test": "dom/events/test/test_eventctors.html", "message": "Test timed out."},
            {"line": 25, "kind": "leak", "test": "leakcheck", "leaked_bytes": 2048,
             "message": "default process: 2048 bytes leaked (nsTArray_base, nsStringBuffer, "
                        "nsThread)"}]
        assert p["counts"] == {"failures": 3, "unexpected": 2, "crashes": 0, "assertions": 0,
                               "leaks": 1, "lines": 28}
        assert p["truncated"] is False and p["error"] is None
        assert p["fetch"]["bytes"] == len(mochitest) and p["fetch"]["attempts"] == 1
        assert p["fetch"]["gzip"] is None and p["fetch"]["http_status"] == 200

        p = by_key["mozilla-inbound.linux64.debug.mochitest-media"][0]["payload"]
        assert "gzip" in server.accept["/logs/encoded.txt"]
        assert p["fetch"]["gzip"] == "content-encoding" and p["fetch"]["bytes"] == len(crash)
        assert [(f["line"], f["kind"], f["test"]) for f in p["failures"]] == [
            (2, "assertion", "dom/media/test/test_playback.html"),
            (4, "unexpected-fail", "dom/media/test/test_playback.html"),
            (5, "process-crash", "dom/media/test/test_playback.html"),
            (9, "process-crash", "automation.py")]
        assert p["failures"][2]["signature"] == "mozilla::MediaDecoder::Shutdown()"

        p = by_key["try.macosx64.debug.mochitest-bc"][0]["payload"]
        assert p["fetch"]["gzip"] == "file"
        assert [(f["kind"], f.get("leaked_bytes")) for f in p["failures"]] == [
            ("leak", 4096), ("leak", 512)]

        p = by_key["fx-team.win32.opt.xpcshell"][0]["payload"]
        assert server.hits["/logs/flaky.txt"] == 2
        assert p["fetch"]["attempts"] == 2 and p["error"] is None
        assert [f["kind"] for f in p["failures"]] == ["unexpected-fail", "unexpected-fail"]

        p = by_key["mozilla-central.android-api-15.opt.reftest_1"][0]["payload"]
        assert p["failures"] == [] and p["fetch"]["attempts"] == 1
        assert "larger than the limit" in p["error"], p["error"]

        p = by_key["mozilla-central.linux64.pgo.tp5o"][0]["payload"]
        assert p["talos"] is True
        assert p["error"].endswith("HTTP 404") and p["fetch"]["attempts"] == 1
        assert p["failures"] == []

        p = by_key["mozilla-aurora.linux.opt.reftest"][0]["payload"]
        assert server.hits["/logs/moved.txt"] == 1 and server.hits["/archive/reftest.txt"] == 1
        assert [f["kind"] for f in p["failures"]] == ["unexpected-fail", "unexpected-pass"]
        assert p["logurl"] == server.url("/logs/moved.txt") and p["fetch"]["http_status"] == 200

        assert tool.stop() == 0, "\n".join(tool.err)
        assert pulse_target.queue_depth(queue) == 0  # every input acked, none left unacked
        assert any("event=parsed" in l and "failures=3" in l for l in tool.err), tool.err
    finally:
        tool.stop(signal.SIGKILL)
        summaries.close()
        cleanup(pulse_target, [], [queue])


def test_kill_and_restart_mid_stream_loses_nothing(pulse_target, server, logparser):
    n = 16

    def slow(i):
        def route(_hit):
            time.sleep(0.15)
            return 200, {}, b"TEST-START | t%d\nTEST-UNEXPECTED-FAIL | t%d | job %d\n" % (i, i, i)
        return route

    server.routes = {"/logs/%d.txt" % i: slow(i) for i in range(n)}
    tag = uuid.uuid4().hex[:8]
    src, out = "exchange/alice/%s/normalized" % tag, "exchange/alice/%s/logparser" % tag
    queue = "queue/alice/logparser-%s" % tag
    url = pulse_target.uri()
    pulse_target.declare_exchange(src)
    summaries = Summaries(url, out)
    args = ["--uri", url, "--queue", queue, "--exchange", src, "--output-exchange", out,
            "--jobs", "2"]
    tool = Tool(logparser, args)
    second = None
    try:
        tool.wait_consuming()
        publish_normalized(url, src, [
            normalized("mozilla-central", "linux64", "ubuntu64_vm", "opt", "xpcshell-%d" % i,
                       server.url("/logs/%d.txt" % i), i) for i in range(n)])
        summaries.drain_until(lambda: len(summaries.received) >= 4)
        tool.stop(signal.SIGKILL)
        second = Tool(logparser, args)

        def seen():
            return {b["payload"]["build_number"] for _, b, _ in summaries.received}
        summaries.drain_until(lambda: len(seen()) == n, timeout=40)
        assert seen() == set(range(n))
        for key, body, _ in summaries.received:
            i = body["payload"]["build_number"]
            assert key == "mozilla-central.linux64.opt.xpcshell-%d" % i
            assert body["payload"]["failures"] == [
                {"line": 2, "kind": "unexpected-fail", "test": "t%d" % i, "message": "job %d" % i}]
        assert second.stop() == 0, "\n".join(second.err)
        assert pulse_target.queue_depth(queue) == 0
    finally:
        tool.stop(signal.SIGKILL)
        if second:
            second.stop(signal.SIGKILL)
        summaries.close()
        cleanup(pulse_target, [src, out], [queue])


def test_dry_run_prints_and_publishes_nothing(pulse_target, server, logparser):
    server.routes = {"/logs/a.txt": (200, {}, fixture_log("reftest.log"))}
    tag = uuid.uuid4().hex[:8]
    src, out = "exchange/alice/%s/normalized" % tag, "exchange/alice/%s/logparser" % tag
    url = pulse_target.uri()
    pulse_target.declare_exchange(src)
    summaries = Summaries(url, out)
    tool = Tool(logparser, ["--uri", url, "--exchange", src, "--output-exchange", out,
                            "--dry-run"])
    try:
        tool.wait_consuming()
        publish_normalized(url, src, [normalized("try", "linux", "ubuntu32_vm", "debug",
                                                 "reftest", server.url("/logs/a.txt"), 7)])
        line = tool.proc.stdout.readline()
        p = json.loads(line)
        assert p["tree"] == "try" and [f["kind"] for f in p["failures"]] == [
            "unexpected-fail", "unexpected-pass"]
        assert tool.stop() == 0
        summaries.idle(0.5)
        assert summaries.received == []
    finally:
        tool.stop(signal.SIGKILL)
        summaries.close()
        cleanup(pulse_target, [src, out], [])


def test_help_and_usage_errors(logparser):
    r = subprocess.run([logparser, "--help"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and "--max-log-bytes" in r.stdout
    r = subprocess.run([logparser, "--queue", "nope"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2
    assert r.stderr.startswith("pulse-logparser: --queue 'nope': expected queue/<user>/<name>")


def test_https_log_checked_against_cacert(pulse_target, logparser):
    c = certs()
    server = LogServer(tls=(c.server_cert, c.server_key))
    tag = uuid.uuid4().hex[:8]
    src, out = "exchange/alice/%s/normalized" % tag, "exchange/alice/%s/logparser" % tag
    url = pulse_target.uri()
    pulse_target.declare_exchange(src)
    summaries = Summaries(url, out)
    server.routes = {"/logs/a.txt.gz": (200, {}, gzip.compress(fixture_log("assertion.log")))}
    tool = Tool(logparser, ["--uri", url, "--exchange", src, "--output-exchange", out,
                            "--cacert", c.ca, "--dry-run", "--queue",
                            "queue/alice/logparser-%s" % tag, "--fetch-attempts", "1"])
    try:
        tool.wait_consuming()
        publish_normalized(url, src, [
            normalized("try", "linux", "ubuntu32_vm", "debug", "crashtest",
                       server.url("/logs/a.txt.gz"), 1),
            normalized("try", "linux", "ubuntu32_vm", "debug", "crashtest-2",
                       "https://localhost:%d/logs/a.txt.gz" % server.httpd.server_address[1], 2)])
        first, second = (json.loads(tool.proc.stdout.readline()) for _ in range(2))
        by_number = {p["build_number"]: p for p in (first, second)}
        p = by_number[1]
        assert p["error"] is None and p["fetch"]["gzip"] == "file"
        assert [(f["kind"], f["test"]) for f in p["failures"]] == [
            ("assertion", "layout/generic/crashtests/crashtest-1.html")]
        assert by_number[2]["error"] is None  # the certificate names localhost too
        assert tool.stop() == 0
        # Without --cacert the test CA is not trusted: a summary with the error, no failures.
        tool = Tool(logparser, ["--uri", url, "--exchange", src, "--output-exchange", out,
                                "--dry-run", "--queue", "queue/alice/logparser-%s" % tag,
                                "--fetch-attempts", "1"])
        tool.wait_consuming()
        publish_normalized(url, src, [normalized("try", "linux", "ubuntu32_vm", "debug",
                                                 "crashtest", server.url("/logs/a.txt.gz"), 3)])
        p = json.loads(tool.proc.stdout.readline())
        assert p["failures"] == [] and "certificate" in p["error"], p["error"]
        assert tool.stop() == 0
    finally:
        tool.stop(signal.SIGKILL)
        summaries.close()
        server.close()
        cleanup(pulse_target, [src, out], ["queue/alice/logparser-%s" % tag])


def test_a_message_published_twice_while_its_job_runs_gets_one_summary(pulse_target, server,
                                                                        logparser):
    def slow(_hit):
        time.sleep(1.0)
        return 200, {}, b"TEST-UNEXPECTED-FAIL | a.js | once\n"

    server.routes = {"/logs/slow.txt": slow}
    tag = uuid.uuid4().hex[:8]
    src, out = "exchange/alice/%s/normalized" % tag, "exchange/alice/%s/logparser" % tag
    queue = "queue/alice/logparser-%s" % tag
    url = pulse_target.uri()
    pulse_target.declare_exchange(src)
    summaries = Summaries(url, out)
    tool = Tool(logparser, ["--uri", url, "--queue", queue, "--exchange", src,
                            "--output-exchange", out])
    try:
        tool.wait_consuming()
        job = normalized("try", "linux", "ubuntu32_vm", "opt", "xpcshell",
                         server.url("/logs/slow.txt"), 1)
        publish_normalized(url, src, [job, job])
        summaries.drain_until(lambda: summaries.received)
        summaries.idle(0.5)
        assert len(summaries.received) == 1 and server.hits["/logs/slow.txt"] == 1
        assert tool.stop() == 0, "\n".join(tool.err)
        assert pulse_target.queue_depth(queue) == 0  # both deliveries acked
    finally:
        tool.stop(signal.SIGKILL)
        summaries.close()
        cleanup(pulse_target, [src, out], [queue])


def test_a_refused_summary_is_retried_after_a_back_off_not_at_once(pulse_target, server,
                                                                    logparser):
    """The output exchange exists as a fanout, so the broker refuses the publisher's declaration
    of it as a topic exchange (406) for every summary: the input goes back to the queue after
    1 s, 2 s, 4 s ... rather than being fetched and refused again at once, and is not lost."""
    server.routes = {"/logs/a.txt": (200, {}, fixture_log("reftest.log"))}
    tag = uuid.uuid4().hex[:8]
    src = "exchange/alice/%s/normalized" % tag
    fanout = "exchange/alice/%s/fanout" % tag
    queue = "queue/alice/logparser-%s" % tag
    url = pulse_target.uri()
    pulse_target.declare_exchange(src)
    with pulse_target.channel() as ch:
        ch.exchange_declare(fanout, "fanout", durable=True)
    tool = Tool(logparser, ["--uri", url, "--queue", queue, "--exchange", src,
                            "--output-exchange", fanout])
    try:
        tool.wait_consuming()
        publish_normalized(url, src, [normalized("try", "linux", "ubuntu32_vm", "debug",
                                                 "reftest", server.url("/logs/a.txt"), 7)])
        wait_for(lambda: server.hits.get("/logs/a.txt", 0) >= 2, timeout=20,
                 msg="a second attempt after the back-off: %s" % "\n".join(tool.err))
        time.sleep(3)
        # Attempts at about 0, 1, 3 (and 7) s: a handful, where an immediate requeue makes
        # hundreds in the same time.
        assert 2 <= server.hits["/logs/a.txt"] <= 5, server.hits
        assert any("event=publish_failed" in l and "PRECONDITION_FAILED" in l
                   for l in tool.err), "\n".join(tool.err)
        assert tool.stop() == 0, "\n".join(tool.err)
        assert pulse_target.queue_depth(queue) == 1
    finally:
        tool.stop(signal.SIGKILL)
        cleanup(pulse_target, [src, fanout], [queue])
