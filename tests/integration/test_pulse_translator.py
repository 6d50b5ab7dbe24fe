"""pulse-translator on pulsed and on RabbitMQ: real buildbot messages (tests/data/buildbot, their
log_url pointed at a local HTTP server) published on exchange/build/ as buildbot did; a kombu
consumer on exchange/build/normalized sees exactly the goldens' routing keys and payloads in the
mozillapulse envelope, once each: only after the log URL answers, never when it never does (given
up after --log-check-timeout), and neither lost nor duplicated across a SIGKILL of the translator
or of the broker."""
import http.server
import json
import os
import re
import shutil
import socket
import tempfile
import threading
import time
import uuid

import kombu
import pytest
from kombu import Connection, Exchange, Queue, binding

from harness.pulse_tools import _Process
from harness.pulsed import REPO, built_tool

DATA = os.path.join(REPO, "tests", "data", "buildbot")
IN_EX, OUT_EX = "exchange/build/", "exchange/build/normalized"
RFC3339_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
UTC_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

BUILD = "mozilla-central/build.mozilla-central-linux64.105.log_uploaded"
PGO = "mozilla-central/build.mozilla-central-win32-pgo.102.log_uploaded"
DEBUG = "mozilla-central/build.mozilla-central-macosx64-debug.337.log_uploaded"
NIGHTLY = "mozilla-aurora/build.mozilla-aurora-win64-nightly.26.log_uploaded"
REPACK = "release-mozilla-beta/build.release-mozilla-beta-win32_repack_2.16.log_uploaded"
L10N = "mozilla-central/build.mozilla-central-linux64-l10n-dep.22.log_uploaded"  # no build URL
FINISHED = "mozilla-aurora/build.mozilla-aurora-win32-l10n-nightly-1.10.finished"


class LogServer:
    """Serves the logs named in `ready` (200); anything else is 404, as a log not uploaded yet."""

    def __init__(self):
        self.ready = set()
        self.hits = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_HEAD(self, with_body=False):
                name = self.path.lstrip("/")
                server.hits.append(name)
                body = b"log of " + name.encode()
                self.send_response(200 if name in server.ready else 404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if with_body:
                    self.wfile.write(body)

            def do_GET(self):
                self.do_HEAD(with_body=True)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, name):
        return "http://127.0.0.1:%d/%s" % (self.port, name)

    def close(self):
        self.httpd.shutdown()


def fixture(name, logs, variant=0):
    """(routing key, body, golden outputs) of a fixture, its log_url on `logs` (named after the
    fixture); `variant` makes another input with the same outputs (a new message_id)."""
    with open(os.path.join(DATA, name + ".json")) as f:
        msg = json.load(f)
    with open(os.path.join(DATA, "golden", name + ".json")) as f:
        golden = json.load(f)["outputs"]
    log = os.path.basename(name) + ".txt"
    for prop in msg["payload"]["build"]["properties"]:
        if prop[0] == "log_url":
            prop[1] = logs.url(log)
    msg["_meta"]["message_id"] = msg["_meta"].get("message_id", 0) * 10 + variant
    for out in golden:
        out["payload"]["logurl"] = logs.url(log)
    return os.path.basename(name), msg, golden


def publish_buildbot(target, messages, broker=None):
    """As buildbot did (mozillapulse over kombu): the envelope as it is, JSON, persistent."""
    with Connection(target.uri(broker=broker)) as conn:
        ex = Exchange(IN_EX, type="topic", durable=True)
        producer = conn.Producer(exchange=ex, serializer="json")
        for rk, body, _ in messages:
            producer.publish(body, routing_key=rk, delivery_mode=2)


class Collector:
    """A mozillapulse-style consumer of exchange/build/normalized on a durable queue (so it can
    reconnect after a broker restart without losing anything)."""

    def __init__(self, target, queue, broker=None):
        self.target, self.queue_name, self.broker = target, queue, broker
        self.received = []
        self.connect()

    def connect(self):
        self.conn = Connection(self.target.uri(broker=self.broker))
        self.conn.connect()
        ch = self.conn.channel()
        q = Queue(name=self.queue_name, durable=True, auto_delete=False, channel=ch,
                  bindings=[binding(Exchange(OUT_EX, type="topic", passive=True), routing_key="#")])
        q.declare()
        self.consumer = kombu.Consumer(ch, queues=[q], callbacks=[self._on_message],
                                       auto_declare=False, accept=["json"])
        self.consumer.consume()

    def _on_message(self, body, message):
        self.received.append((message.delivery_info["routing_key"], body, message))
        message.ack()

    def drain(self, n, timeout=30):
        deadline = time.monotonic() + timeout
        while len(self.received) < n:
            left = deadline - time.monotonic()
            assert left > 0, "only %d of %d normalized messages arrived: %s" % (
                len(self.received), n, [r[0] for r in self.received])
            try:
                self.conn.drain_events(timeout=min(left, 1))
            except socket.timeout:
                pass
        return self.received

    def quiet(self, seconds=1.0):
        """Drains whatever else comes within `seconds` (a duplicate would)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.conn.drain_events(timeout=0.2)
            except socket.timeout:
                pass

    def close(self):
        try:
            self.conn.release()
        except Exception:
            pass


def comparable(payload):
    p = dict(payload)
    assert UTC_STAMP.match(p.pop("timestamp")), payload
    return json.dumps(p, sort_keys=True)


def assert_exactly(collector, messages):
    """The normalized messages of `messages`, each once: routing keys, payloads (less the
    receipt time) and the envelope."""
    want = sorted((o["routing_key"], comparable(o["payload"])) for _, _, g in messages for o in g)
    collector.drain(len(want))
    collector.quiet()
    got = []
    for rk, body, message in collector.received:
        meta = body["_meta"]
        assert (meta["exchange"], meta["routing_key"], meta["serializer"]) == (OUT_EX, rk, "json")
        assert RFC3339_OFFSET.match(meta["sent"]), meta
        assert message.properties.get("delivery_mode") == 2
        assert message.content_type == "application/json"
        got.append((rk, comparable(body["payload"])))
    assert sorted(got) == want


class Translator(_Process):
    def __init__(self, target, queue, state_dir, *args, broker=None):
        super().__init__([built_tool("PULSE_TRANSLATOR_BIN", "pulse-translator"),
                          "--uri", target.uri(broker=broker, heartbeat=2), "--queue", queue,
                          "--state-dir", state_dir, "--log-check-interval", "1"] + list(args))
        self.wait_stderr("pulse-translator: consuming %s (" % queue, timeout=30)

    def events(self, event):
        return self.stderr_lines("pulse-translator: event=%s " % event)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.wait_exit(30)


@pytest.fixture
def env(pulse_target):
    tag = uuid.uuid4().hex[:8]
    e = {"queue": "queue/alice/translator-%s" % tag, "collect": "queue/alice/normalized-%s" % tag,
         "state": tempfile.mkdtemp(prefix="translator-"), "logs": LogServer(), "procs": [],
         "collectors": [], "broker": None}
    yield e
    for p in e["procs"]:
        p.kill()
    for c in e["collectors"]:
        c.close()
    e["logs"].close()
    shutil.rmtree(e["state"], ignore_errors=True)
    try:
        pulse_target.delete(queues=[e["queue"], e["collect"]], broker=e["broker"])
    except Exception:
        pass


def declare(pulse_target, broker=None):
    for ex in (IN_EX, OUT_EX):
        pulse_target.declare_exchange(ex, broker=broker)


def start(pulse_target, env, *args, broker=None):
    declare(pulse_target, broker)
    t = Translator(pulse_target, env["queue"], env["state"], *args, broker=broker)
    env["procs"].append(t)
    return t


def collector(pulse_target, env, broker=None):
    declare(pulse_target, broker)
    c = Collector(pulse_target, env["collect"], broker=broker)
    env["collectors"].append(c)
    return c


def test_publishes_the_goldens_once_the_log_answers(pulse_target, env):
    logs = env["logs"]
    col = collector(pulse_target, env)
    translator = start(pulse_target, env)
    ready = [fixture(n, logs) for n in (BUILD, REPACK, DEBUG)]
    silent = [fixture(n, logs) for n in (L10N, FINISHED)]  # pulsetranslator publishes nothing
    late = fixture(PGO, logs)
    for rk, _, _ in ready:
        logs.ready.add(rk + ".txt")
    publish_buildbot(pulse_target, ready + silent + [late])
    assert_exactly(col, ready)
    # The pgo build waits for its log, checked again every second, and the others did not wait.
    translator.wait_stderr("pulse-translator: event=log_not_ready key=%s " % late[0], count=2)
    assert not [r for r in col.received if r[0] == late[2][0]["routing_key"]]
    logs.ready.add(late[0] + ".txt")
    assert_exactly(col, ready + [late])
    assert translator.events("bad")[0].startswith(
        "pulse-translator: event=bad key=build.mozilla-central-linux64-l10n-dep.22.log_uploaded "
        'reason="a build without a build URL"')
    # The same body again is a redelivery: recognised, acknowledged, not published twice.
    publish_buildbot(pulse_target, [ready[0]])
    translator.wait_stderr("pulse-translator: event=duplicate key=%s " % ready[0][0])
    assert_exactly(col, ready + [late])
    assert pulse_target.queue_depth(env["queue"]) == 0
    assert translator.stop() == 0


def test_a_log_that_never_answers_is_given_up(pulse_target, env):
    logs = env["logs"]
    col = collector(pulse_target, env)
    translator = start(pulse_target, env, "--log-check-timeout", "2")
    never, fine = fixture(NIGHTLY, logs), fixture(BUILD, logs)
    logs.ready.add(fine[0] + ".txt")
    publish_buildbot(pulse_target, [never])
    line = translator.wait_stderr("pulse-translator: event=given_up key=%s " % never[0])[0]
    assert "log_url=%s last=\"HTTP 404\"" % logs.url(never[0] + ".txt") in line, line
    assert logs.hits.count(never[0] + ".txt") >= 2
    publish_buildbot(pulse_target, [fine])
    assert_exactly(col, [fine])  # and nothing of the given-up build
    assert pulse_target.queue_depth(env["queue"]) == 0
    assert os.listdir(os.path.join(env["state"], "pending")) == []


def test_no_log_check_publishes_at_once(pulse_target, env):
    col = collector(pulse_target, env)
    start(pulse_target, env, "--no-log-check")
    msgs = [fixture(NIGHTLY, env["logs"])]  # its log is never served
    publish_buildbot(pulse_target, msgs)
    assert_exactly(col, msgs)
    assert env["logs"].hits == []


def test_restarts_lose_and_duplicate_nothing(pulse_target, env):
    """SIGKILL of the translator while messages wait for their logs, then (pulsed) SIGKILL of
    the broker: every normalized message arrives exactly once."""
    logs = env["logs"]
    with pulse_target.restartable() as broker:
        env["broker"] = broker
        col = collector(pulse_target, env, broker=broker)
        first = start(pulse_target, env, broker=broker)
        a = [fixture(n, logs) for n in (BUILD, DEBUG)]
        b = [fixture(n, logs) for n in (PGO, REPACK)]
        for rk, _, _ in a:
            logs.ready.add(rk + ".txt")
        publish_buildbot(pulse_target, a + b, broker=broker)
        assert_exactly(col, a)
        for rk, _, _ in b:  # stored and acknowledged, waiting for their logs
            first.wait_stderr("pulse-translator: event=log_not_ready key=%s " % rk)
        first.kill()
        c = [fixture(BUILD, logs, variant=1)]  # published while the translator is down
        publish_buildbot(pulse_target, c, broker=broker)
        for rk, _, _ in b:
            logs.ready.add(rk + ".txt")
        second = start(pulse_target, env, broker=broker)
        assert second.events("started")[0].endswith("pending=2 log_check=on")
        assert_exactly(col, a + b + c)
        if pulse_target.name == "rabbitmq":
            return  # a RabbitMQ node takes 10-20 s to restart: the broker half is pulsed's
        broker.stop_process(kill=True)
        broker.start()
        second.wait_stderr("pulse-translator: recovered on ", count=2, timeout=60)
        col.connect()
        d = [fixture(n, logs, variant=2) for n in (BUILD, NIGHTLY)]
        logs.ready.add(d[1][0] + ".txt")
        publish_buildbot(pulse_target, d, broker=broker)
        assert_exactly(col, a + b + c + d)
        assert second.stop() == 0
        pulse_target.delete(queues=[env["queue"], env["collect"]], broker=broker)


def test_dry_run_prints_instead_of_publishing(pulse_target, env):
    col = collector(pulse_target, env)
    dry = _Process([built_tool("PULSE_TRANSLATOR_BIN", "pulse-translator"),
                    "--uri", pulse_target.uri(), "--dry-run"])
    env["procs"].append(dry)
    dry.wait_stderr("pulse-translator: consuming queue/alice/", timeout=30)
    msg = fixture(BUILD, env["logs"])  # its log is never served: a dry run does not wait
    publish_buildbot(pulse_target, [msg])
    line = json.loads(dry.wait_until(lambda: dry.out[:1], 30, "a printed message")[0])
    want = msg[2][0]
    assert (line["exchange"], line["routing_key"]) == (OUT_EX, want["routing_key"])
    assert line["body"]["_meta"]["routing_key"] == want["routing_key"]
    assert comparable(line["body"]["payload"]) == comparable(want["payload"])
    col.quiet()
    assert col.received == []
