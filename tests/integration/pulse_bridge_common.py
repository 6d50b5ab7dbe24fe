"""What the pulse-bridge tests share: the daemon as a process (config file, free port, its log),
HTTP helpers, a kombu consumer as mozillapulse's GenericConsumer, and a local HTTP server that
stands in for the feeds the bridge polls (no internet)."""
import hmac
import hashlib
import http.server as http_server
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid

import kombu
import pytest
from kombu import Connection, Exchange, Queue, binding

from harness.broker import HOST, built_tool, free_port
from harness.util import wait_for

RFC3339_OFFSET = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$"


def bridge_bin():
    return built_tool("PULSE_BRIDGE_BIN", "pulse-bridge")


def sign(secret, body):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def http(method, url, body=None, headers=None, timeout=30):
    """(status, headers, parsed JSON body or text)."""
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, hdrs, raw = r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, raw = e.code, dict(e.headers), e.read()
    try:
        return status, {k.lower(): v for k, v in hdrs.items()}, json.loads(raw)
    except ValueError:
        return status, {k.lower(): v for k, v in hdrs.items()}, raw.decode()


class Bridge:
    """pulse-bridge with a config of `lines` (pulse.bridge.* keys), listening on a free port."""

    def __init__(self, lines, uri=None, dry_run=False, state_dir=None, env=None, listen=True,
                 extra=()):
        self.dir = tempfile.mkdtemp(prefix="pulse-bridge-")
        self.state_dir = state_dir or os.path.join(self.dir, "state")
        self.config = os.path.join(self.dir, "bridge.conf")
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.port = free_port() if listen else None
        self.uri, self.dry_run, self.env, self.extra = uri, dry_run, env or {}, list(extra)
        self.proc = None
        self.runs = 0

    def args(self):
        a = [bridge_bin(), "--config", self.config, "--state-dir", self.state_dir,
             "--log-level", "debug"]
        if self.port:
            a += ["--listen", "%s:%d" % (HOST, self.port)]
        if self.uri:
            a += ["--uri", self.uri]
        if self.dry_run:
            a.append("--dry-run")
        return a + self.extra

    def start(self):
        self.runs += 1
        self.stdout = open(os.path.join(self.dir, "stdout.%d" % self.runs), "w+")
        self.stderr = open(os.path.join(self.dir, "stderr.%d" % self.runs), "w+")
        env = dict(os.environ, **self.env)
        env.pop("PULSE_URI", None)
        self.proc = subprocess.Popen(self.args(), stdout=self.stdout, stderr=self.stderr, env=env)
        if self.port:
            wait_for(lambda: self._up(), timeout=15, msg="pulse-bridge listening\n" + self.log())
        return self

    def _up(self):
        assert self.proc.poll() is None, "pulse-bridge exited %s:\n%s" % (self.proc.returncode,
                                                                          self.log())
        try:
            with socket.create_connection((HOST, self.port), timeout=1):
                return True
        except OSError:
            return False

    def url(self, path):
        return "http://%s:%d%s" % (HOST, self.port, path)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def remove(self):
        """Deletes the bridge's directory (its config, logs and, unless given, state)."""
        for f in (getattr(self, "stdout", None), getattr(self, "stderr", None)):
            if f:
                f.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        self.stderr.flush()
        with open(self.stderr.name) as f:
            return f.read()

    def output(self):
        self.stdout.flush()
        with open(self.stdout.name) as f:
            return f.read()

    def health(self, source=""):
        return http("GET", self.url("/health" + ("/" + source if source else "")))


@pytest.fixture
def bridges():
    made = []

    def make(*a, **kw):
        b = Bridge(*a, **kw)
        made.append(b)
        return b
    yield make
    for b in made:
        b.stop()
        b.remove()


class KombuConsumer:
    """mozillapulse's GenericConsumer: passive exchange, an auto-delete queue bound to topics."""

    def __init__(self, url, queue, exchange, topics):
        self.conn = Connection(url)
        self.conn.connect()
        ch = self.conn.channel()
        ex = Exchange(exchange, type="topic", passive=True)
        self.queue = Queue(name=queue, bindings=[binding(ex, routing_key=t) for t in topics],
                           durable=False, auto_delete=True, channel=ch)
        self.queue.declare()
        self.received = []
        self.consumer = kombu.Consumer(ch, queues=[self.queue], callbacks=[self._on_message],
                                       auto_declare=False, accept=["json"])
        self.consumer.consume()

    def _on_message(self, body, message):
        self.received.append((body, message))
        message.ack()

    def drain(self, n, timeout=20):
        deadline = time.time() + timeout
        while len(self.received) < n:
            left = deadline - time.time()
            assert left > 0, "only %d of %d messages arrived" % (len(self.received), n)
            try:
                self.conn.drain_events(timeout=min(left, 1))
            except socket.timeout:
                pass
        return self.received

    def take(self, n, timeout=20):
        """The next n messages as (routing_key, body), removed from `received`."""
        got = self.drain(n, timeout)[:n]
        del self.received[:n]
        return [(m.delivery_info["routing_key"], body) for body, m in got]

    def assert_nothing_more(self, wait=0.5):
        end = time.time() + wait
        while time.time() < end:
            try:
                self.conn.drain_events(timeout=max(0.05, end - time.time()))
            except socket.timeout:
                pass
        assert self.received == [], [b for b, _ in self.received]

    def close(self):
        self.conn.release()


@pytest.fixture
def exchanges(pulse_target):
    """Unique exchange names in alice's namespace, declared (durable topic) so a consumer can
    bind before the bridge publishes; deleted afterwards."""
    made = []

    def make(what):
        name = "exchange/alice/bridge-%s/%s" % (uuid.uuid4().hex[:8], what)
        pulse_target.declare_exchange(name)
        made.append(name)
        return name
    yield make
    pulse_target.delete(exchanges=made)


@pytest.fixture
def consumer(pulse_target):
    made = []

    def make(exchange, topics=("#",)):
        c = KombuConsumer(pulse_target.uri(), "queue/alice/bridge-%s" % uuid.uuid4().hex[:8],
                          exchange, list(topics))
        made.append(c)
        return c
    yield make
    for c in made:
        c.close()


def assert_envelope(body, exchange, routing_key):
    import re
    meta = body["_meta"]
    assert meta["exchange"] == exchange
    assert meta["routing_key"] == routing_key
    assert meta["serializer"] == "json"
    assert re.match(RFC3339_OFFSET, meta["sent"]), meta["sent"]
    return body["payload"]


class FeedServer:
    """A local HTTP server standing in for a feed: `routes[path] = (status, headers, body)`
    answered for GET; conditional requests answered 304 when If-None-Match matches the ETag or
    If-Modified-Since equals Last-Modified; `fail_next` requests answered 500. Every request's
    path and headers are recorded."""

    def __init__(self):
        self.routes = {}
        self.requests = []
        self.fail_next = 0
        self.lock = threading.Lock()
        server = self

        class Handler(http_server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                with server.lock:
                    server.requests.append((self.path, {k.lower(): v for k, v in
                                                        self.headers.items()}))
                    if server.fail_next > 0:
                        server.fail_next -= 1
                        return self._send(500, {}, b"boom")
                    path = self.path.split("?")[0]
                    route = server.routes.get(path)
                    if callable(route):
                        route = route(self.path)
                if route is None:
                    return self._send(404, {}, b"no such feed")
                status, headers, body = route
                inm = self.headers.get("If-None-Match")
                ims = self.headers.get("If-Modified-Since")
                if (inm and inm == headers.get("ETag")) or (
                        ims and ims == headers.get("Last-Modified")):
                    return self._send(304, headers, b"")
                if not isinstance(body, bytes):
                    body = json.dumps(body).encode()
                self._send(status, dict(headers, **{"Content-Type": "application/json"}), body)

            def _send(self, status, headers, body):
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)

        self.httpd = http_server.ThreadingHTTPServer((HOST, free_port()), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://%s:%d%s" % (HOST, self.port, path)

    def count(self, path_prefix):
        with self.lock:
            return sum(1 for p, _ in self.requests if p.startswith(path_prefix))

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def feed_server():
    s = FeedServer()
    yield s
    s.close()
