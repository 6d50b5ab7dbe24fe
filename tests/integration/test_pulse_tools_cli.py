"""pulse-publish and pulse-listen (tools/) as a user runs them: --help, usage errors (exit 2),
a publish -> listen round trip in the Pulse envelope, a bad JSON line (exit 1 and the summary),
PULSE_URI, --raw, non-JSON bodies, SIGINT and a missing exchange.

Faults (proxy drops, broker kill, forced closes) and kombu interoperability are in the
test_pulse_*.py files of the fault suite; this file only checks the command-line contract.
"""
import json
import os
import queue
import signal
import subprocess
import threading
import time

import pika
import pytest

from harness.broker import built_tool, free_port
from harness.util import unique

TIMEOUT = 30


@pytest.fixture(scope="module")
def listen():
    return built_tool("PULSE_LISTEN_BIN", "pulse-listen")


@pytest.fixture(scope="module")
def publish():
    return built_tool("PULSE_PUBLISH_BIN", "pulse-publish")


@pytest.fixture
def exchange(broker):
    """A durable topic exchange, as pulse-publish declares it (pulse-listen only binds)."""
    name = "exchange/guest/%s" % unique("cli")
    c = broker.connect()
    ch = c.channel()
    ch.exchange_declare(name, exchange_type="topic", durable=True)
    yield name
    ch.exchange_delete(name)
    c.close()


def env_without_uri(**extra):
    env = {k: v for k, v in os.environ.items() if k != "PULSE_URI"}
    env.update(extra)
    return env


class Listener:
    """pulse-listen in the background; its stderr lines are collected as they come."""

    def __init__(self, binary, args, env):
        self.proc = subprocess.Popen([binary] + args, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        self.lines = queue.Queue()
        self.err = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for raw in self.proc.stderr:
            line = raw.decode(errors="replace").rstrip("\n")
            self.err.append(line)
            self.lines.put(line)

    def wait_for(self, prefix, timeout=TIMEOUT):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                break
            if line.startswith(prefix):
                return line
        self.kill()
        pytest.fail("no stderr line %r; stderr so far: %r" % (prefix, self.err))

    def finish(self, timeout=TIMEOUT):
        try:
            out = self.proc.stdout.read()
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        return self.proc.returncode, out

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def run_publish(publish, args, stdin, env):
    return subprocess.run([publish] + args, input=stdin.encode(), capture_output=True,
                          env=env, timeout=TIMEOUT)


@pytest.mark.parametrize("tool,options", [
    ("pulse-listen", ["--exchange", "--topic", "--applabel", "--durable", "--expires",
                      "--prefetch", "--count", "--raw", "--user", "--uri"]),
    ("pulse-publish", ["--exchange", "--routing-key", "--no-envelope", "--persistent",
                       "--transient", "--file", "--route", "--deadline", "--no-declare", "--uri"]),
])
def test_help(tool, options, listen, publish):
    binary = listen if tool == "pulse-listen" else publish
    p = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(tool + ": ")
    for option in options + ["PULSE_URI", "Exit status"]:
        assert option in p.stdout, option
    assert p.stderr == ""


@pytest.mark.parametrize("tool,args,message", [
    ("pulse-listen", [], "--exchange is required"),
    ("pulse-listen", ["--topic", "a.#", "--exchange", "e"], "comes before any --exchange"),
    ("pulse-listen", ["--exchange", "e", "--durable"], "--durable needs --applabel"),
    ("pulse-listen", ["--exchange", "e", "--count", "x"], "--count"),
    ("pulse-listen", ["--exchange", "e", "--nope"], "--nope"),
    ("pulse-listen", ["--exchange", "e", "--uri", "http://h/"], "--uri"),
    ("pulse-publish", ["--exchange", "e"], "--routing-key is required"),
    ("pulse-publish", ["--exchange", "e", "--routing-key", "a..b"], "a..b"),
    ("pulse-publish", ["--exchange", "e", "--routing-key", "k", "--persistent", "--transient"],
     "excludes"),
    ("pulse-publish", ["--exchange", "e", "--routing-key", "k", "--file", "/nonexistent/in"],
     "/nonexistent/in"),
])
def test_usage_errors_exit_2(tool, args, message, listen, publish):
    binary = listen if tool == "pulse-listen" else publish
    # An unreachable broker: a usage error must be reported before any connection attempt.
    env = env_without_uri(PULSE_URI="amqp://127.0.0.1:%d/" % free_port())
    p = subprocess.run([binary] + args, capture_output=True, text=True, env=env,
                       stdin=subprocess.DEVNULL, timeout=TIMEOUT)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert message in p.stderr
    assert p.stderr.startswith(tool + ": ") or "Run with --help" in p.stderr
    assert p.stdout == ""


def test_publish_then_listen_round_trip(broker, exchange, listen, publish):
    # pulse-listen finds the broker through PULSE_URI, pulse-publish through --uri (overriding a
    # PULSE_URI that points nowhere).
    lst = Listener(listen, ["--exchange", exchange, "--topic", "build.#", "--count", "3"],
                   env_without_uri(PULSE_URI=broker.url()))
    line = lst.wait_for("pulse-listen: listening on ")
    assert line.startswith("pulse-listen: listening on queue/guest/")
    assert line.endswith("(%s:%d)" % (broker.host, broker.port))

    payloads = [{"n": 1, "text": "café"}, [1, 2, 3], "three"]
    stdin = "\n".join(json.dumps(p) for p in payloads) + "\n\n"  # an empty line is skipped
    p = run_publish(publish, ["--uri", broker.url(), "--exchange", exchange,
                              "--routing-key", "build.linux.opt"], stdin,
                    env_without_uri(PULSE_URI="amqp://127.0.0.1:%d/" % free_port()))
    assert p.returncode == 0, p.stderr
    assert p.stderr.decode().splitlines()[-1] == \
        "pulse-publish: 3 published, 3 confirmed, 0 failed"

    rc, out = lst.finish()
    assert rc == 0, lst.err
    lines = out.decode().splitlines()
    assert len(lines) == 3, out
    for sent, text in zip(payloads, lines):
        m = json.loads(text)
        assert m["exchange"] == exchange and m["routing_key"] == "build.linux.opt"
        assert m["redelivered"] is False
        assert m["properties"] == {"content_type": "application/json",
                                   "content_encoding": "utf-8", "delivery_mode": 2}
        assert "body_encoding" not in m
        assert m["body"]["payload"] == sent
        meta = m["body"]["_meta"]
        assert meta["exchange"] == exchange and meta["routing_key"] == "build.linux.opt"
        assert meta["serializer"] == "json"
        assert meta["sent"][:2] == "20" and meta["sent"][-6] in "+-"


def test_publish_from_an_idle_stdin(broker, exchange, listen, publish):
    """An interactive producer: each line goes out when it is written, and the connection stays
    up (heartbeats every second) while stdin is idle."""
    lst = Listener(listen, ["--uri", broker.url(), "--exchange", exchange, "--count", "2"],
                   env_without_uri())
    lst.wait_for("pulse-listen: listening on ")
    pub = subprocess.Popen([publish, "--uri", broker.url() + "?heartbeat=1", "--exchange",
                            exchange, "--routing-key", "typed"], stdin=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env_without_uri())
    try:
        pub.stdin.write(b'{"first": true}\n')
        pub.stdin.flush()
        first = lst.proc.stdout.readline()  # arrives while pulse-publish waits for more input
        assert json.loads(first)["body"]["payload"] == {"first": True}
        time.sleep(3.5)  # over three heartbeat intervals with nothing to send
        pub.stdin.write(b'{"second": true}\n')
        pub.stdin.close()
        assert pub.wait(TIMEOUT) == 0
    finally:
        if pub.poll() is None:
            pub.kill()
    err = pub.stderr.read().decode().splitlines()
    assert err == ["pulse-publish: 2 published, 2 confirmed, 0 failed"], err
    rc, out = lst.finish()
    assert rc == 0, lst.err
    assert json.loads(out)["body"]["payload"] == {"second": True}


def test_bad_json_line_fails_the_run(broker, exchange, publish):
    p = run_publish(publish, ["--exchange", exchange, "--routing-key", "k"],
                    '{"ok": 1}\nnot json\n{"ok": 2}\n', env_without_uri(PULSE_URI=broker.url()))
    assert p.returncode == 1
    err = p.stderr.decode().splitlines()
    assert any(e.startswith("pulse-publish: line 2: not JSON: ") for e in err), err
    assert err[-1] == "pulse-publish: 2 published, 2 confirmed, 1 failed"


def test_raw_and_non_json_bodies(broker, exchange, listen, publish):
    # --no-envelope sends each line as it is; --raw prints bodies alone.
    raw = Listener(listen, ["--uri", broker.url(), "--exchange", exchange, "--count", "2",
                            "--raw"], env_without_uri())
    plain = Listener(listen, ["--uri", broker.url(), "--exchange", exchange, "--count", "4"],
                     env_without_uri())
    raw.wait_for("pulse-listen: listening on ")
    plain.wait_for("pulse-listen: listening on ")
    p = run_publish(publish, ["--uri", broker.url(), "--exchange", exchange, "--routing-key",
                              "a", "--no-envelope", "--transient"], '{"x": 1}\n[2]\n',
                    env_without_uri())
    assert p.returncode == 0, p.stderr
    c = broker.connect()
    ch = c.channel()
    ch.basic_publish(exchange, "b", b"plain text\n", pika.BasicProperties(
        content_type="text/plain", headers={"h": {"nested": [1, "two"]}}, message_id="m1"))
    ch.basic_publish(exchange, "c", b"\xff\x00binary")
    c.close()

    rc, out = raw.finish()
    assert rc == 0, raw.err
    assert out == b'{"x": 1}\n[2]\n'

    rc, out = plain.finish()
    assert rc == 0, plain.err
    msgs = [json.loads(line) for line in out.decode().splitlines()]
    assert [m["body"] for m in msgs[:2]] == [{"x": 1}, [2]]
    assert msgs[0]["properties"] == {"content_type": "application/json",
                                     "content_encoding": "utf-8", "delivery_mode": 1}
    assert msgs[2]["body"] == "plain text\n" and "body_encoding" not in msgs[2]
    assert msgs[2]["properties"] == {"content_type": "text/plain", "message_id": "m1",
                                     "headers": {"h": {"nested": [1, "two"]}}}
    assert msgs[3]["body"] == "/wBiaW5hcnk=" and msgs[3]["body_encoding"] == "base64"
    assert msgs[3]["properties"] == {}


def test_sigint_exits_0(broker, exchange, listen):
    lst = Listener(listen, ["--uri", broker.url(), "--exchange", exchange], env_without_uri())
    lst.wait_for("pulse-listen: listening on ")
    lst.proc.send_signal(signal.SIGINT)
    rc, out = lst.finish(timeout=10)
    assert rc == 0, lst.err
    assert out == b""


def test_closed_stdout_exits_1(broker, exchange, listen):
    lst = Listener(listen, ["--uri", broker.url(), "--exchange", exchange], env_without_uri())
    lst.wait_for("pulse-listen: listening on ")
    lst.proc.stdout.close()  # the only reader of its stdout goes away
    c = broker.connect()
    c.channel().basic_publish(exchange, "k", b"{}")
    c.close()
    lst.proc.wait(TIMEOUT)
    assert lst.proc.returncode == 1, lst.err
    lst.wait_for("pulse-listen: stdout: Broken pipe")


def test_missing_exchange_exits_1(broker, listen):
    name = "exchange/guest/%s" % unique("missing")
    p = subprocess.run([listen, "--uri", broker.url(), "--exchange", name],
                       capture_output=True, text=True, env=env_without_uri(), timeout=TIMEOUT)
    assert p.returncode == 1
    assert "NOT_FOUND - no exchange '%s' in vhost '/'" % name in p.stderr
    assert p.stdout == ""
