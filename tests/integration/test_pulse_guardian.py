"""pulse-guardian, the standalone guardian (tools/pulse-guardian), against pulsed's management
API and a real RabbitMQ 3.10 node (the `pulse_target` fixture), with real publishers filling
queues, a pika subscriber on exchange/pulse/guardian and an SMTP server (aiosmtpd) receiving
the mails.

Each test guards a vhost of its own as a user with the management tag and permissions on that
vhost only: such a user sees (and may delete) only that vhost's queues, so thresholds as low as
5 and 10 messages cannot touch the queues of other tests on the shared brokers. Everything
created is removed again.

RabbitMQ's management API shows a queue's new size about 5 s late (measured on 3.10: 5.3 s,
and still 5 s with collect_statistics_interval = 1000, so the shared node keeps its defaults):
waits are polled with deadlines, never fixed sleeps."""
import json
import os
import signal
import subprocess
import tempfile
import time

import pika
import pytest
from aiosmtpd.controller import Controller
from pika.exceptions import ChannelClosedByBroker

from harness.broker import HOST, built_tool, free_port
from harness.http_api import q
from harness.util import unique

NOTICE_DEADLINE = 40  # s: interval 1 s plus RabbitMQ's ~5 s statistics delay, with margin
FROM = "pulse@guardian.example"


@pytest.fixture(scope="module")
def guardian_bin():
    return built_tool("PULSE_GUARDIAN_BIN", "pulse-guardian")


class Recorder:
    def __init__(self):
        self.mails = []

    async def handle_DATA(self, server, session, envelope):
        import email
        import email.policy
        self.mails.append((list(envelope.rcpt_tos),
                           email.message_from_bytes(envelope.content, policy=email.policy.default)))
        return "250 Message accepted"


@pytest.fixture
def smtp_sink():
    handler = Recorder()
    port = free_port()
    controller = Controller(handler, hostname=HOST, port=port)
    controller.start()
    handler.port = port
    try:
        yield handler
    finally:
        controller.stop()


class Guarded:
    """A fresh vhost on the target and a user that may manage only it (the guardian's -u)."""

    def __init__(self, target):
        self.target = target
        self.api = target.api()
        self.vhost = unique("guardian")
        self.user = unique("guardian-user")
        self.password = "secret-" + self.user
        assert self.api.put("/api/vhosts/" + q(self.vhost)).status in (201, 204)
        r = self.api.put("/api/users/" + q(self.user),
                         {"password": self.password, "tags": "management"})
        assert r.status in (201, 204), r
        for user in (self.user, "guest"):
            r = self.api.put("/api/permissions/%s/%s" % (q(self.vhost), q(user)),
                             {"configure": ".*", "write": ".*", "read": ".*"})
            assert r.status in (201, 204), r
        # The isolation the thresholds below rely on: a queue in another vhost is not listed
        # for the guardian's user, so it can never be judged (nor deleted) by these tests.
        outside = unique("queue/guest/outside")
        assert self.api.put("/api/queues/%%2F/%s" % q(outside)).status in (201, 204)
        try:
            r = self.api.as_user(self.user, self.password).get("/api/queues")
            assert r.status == 200, r
            assert {x["vhost"] for x in r.json} <= {self.vhost}, r.json
        finally:
            self.api.request("DELETE", "/api/queues/%%2F/%s" % q(outside))

    def close(self):
        self.api.request("DELETE", "/api/vhosts/" + q(self.vhost))
        self.api.request("DELETE", "/api/users/" + q(self.user))

    def amqp_url(self, user=None, password=None):
        return "amqp://%s:%s@%s:%d/%s" % (user or self.user, password or self.password, HOST,
                                          self.target.port, q(self.vhost))

    def mgmt_url(self):
        return "http://%s:%d" % (HOST, self.target.http_port)

    def connect(self):
        return pika.BlockingConnection(pika.ConnectionParameters(
            host=HOST, port=self.target.port, virtual_host=self.vhost,
            credentials=pika.PlainCredentials("guest", "guest")))


@pytest.fixture
def guarded(pulse_target):
    g = Guarded(pulse_target)
    try:
        yield g
    finally:
        g.close()


def write_config(lines):
    f = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
    f.write("".join(line + "\n" for line in lines))
    f.close()
    return f.name


class Guardian:
    def __init__(self, binary, guarded, config_lines, extra=()):
        self.config = write_config(config_lines)
        self.log = tempfile.TemporaryFile("w+")
        self.cmd = [binary, "--url", guarded.mgmt_url(), "-u", guarded.user,
                    "-p", guarded.password, "--timeout", "5", "--config", self.config,
                    "--amqp-url", guarded.amqp_url()] + list(extra)
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)

    def output(self):
        self.log.seek(0)
        return self.log.read()

    def wait_for_line(self, text, deadline=20):
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if text in self.output():
                return
            assert self.proc.poll() is None, self.output()
            time.sleep(0.1)
        pytest.fail("no %r in pulse-guardian's log:\n%s" % (text, self.output()))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.unlink(self.config)


def run_once(binary, *args, timeout=60):
    return subprocess.run([binary, "--once", "--timeout", "5"] + list(args),
                          capture_output=True, text=True, timeout=timeout)


def next_notice(ch, queue, deadline):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        method, props, body = ch.basic_get(queue, auto_ack=True)
        if method is not None:
            return method.routing_key, props, json.loads(body)
        time.sleep(0.2)
    return None


def fill(ch, exchange, count):
    for i in range(count):
        ch.basic_publish(exchange, "build.%d" % i, json.dumps({"n": i}),
                         pika.BasicProperties(delivery_mode=2))


def test_warns_then_deletes_a_growing_queue_on_the_exchange_and_by_mail(
        guardian_bin, guarded, smtp_sink):
    queue = "queue/alice/" + unique("growing")
    exchange = "exchange/alice/" + unique("builds")
    g = Guardian(guardian_bin, guarded, [
        "# the test's thresholds",
        "pulse.guardian.interval = 1",
        "pulse.guardian.warn_queue_size = 5",
        "pulse.guardian.delete_queue_size = 10",
        "pulse.smtp.host = " + HOST,
        "pulse.smtp.port = %d" % smtp_sink.port,
        "pulse.smtp.from = " + FROM,
        "pulse.smtp.owner_domain = owners.example",
    ])
    conn = guarded.connect()
    try:
        # pulse-guardian declares exchange/pulse/guardian (durable topic) in the vhost it
        # publishes to, which did not have one.
        g.wait_for_line("declared exchange/pulse/guardian (durable topic)")
        ch = conn.channel()
        sub = ch.queue_declare("", exclusive=True).method.queue
        ch.queue_bind(sub, "exchange/pulse/guardian", "#")
        ch.exchange_declare(exchange, "topic", durable=True)
        ch.queue_declare(queue, durable=True)
        ch.queue_bind(queue, exchange, "build.#")

        fill(ch, exchange, 7)
        got = next_notice(ch, sub, NOTICE_DEADLINE)
        assert got is not None, g.output()
        key, props, body = got
        assert key == "warning.alice", (key, body)
        assert props.content_type == "application/json" and props.delivery_mode == 2
        p = body["payload"]
        assert body["_meta"]["exchange"] == "exchange/pulse/guardian"
        assert body["_meta"]["routing_key"] == "warning.alice"
        assert p["event"] == "warning" and p["owner"] == "alice"
        assert p["queue"] == queue and p["vhost"] == guarded.vhost
        assert 5 < p["messages"] <= 7, p
        assert p["bindings"] == [{"exchange": exchange, "routing_key": "build.#"}]
        assert p["warn_queue_size"] == 5 and p["delete_queue_size"] == 10

        fill(ch, exchange, 5)
        got = next_notice(ch, sub, NOTICE_DEADLINE)
        assert got is not None, g.output()
        key, _, body = got
        assert key == "deleted.alice", (key, body)
        assert body["payload"]["queue"] == queue and body["payload"]["messages"] > 10
        with pytest.raises(ChannelClosedByBroker) as gone:
            conn.channel().queue_declare(queue, passive=True)
        assert gone.value.reply_code == 404

        end = time.monotonic() + 15
        while len(smtp_sink.mails) < 2 and time.monotonic() < end:
            time.sleep(0.1)
        subjects = sorted(m["Subject"] for _, m in smtp_sink.mails)
        assert subjects == ['Pulse warning: queue "%s" has been deleted' % queue,
                            'Pulse warning: queue "%s" is overgrowing' % queue], g.output()
        assert all(rcpt == ["alice@owners.example"] for rcpt, _ in smtp_sink.mails)
        assert "warning.alice" in g.output() and "deleted.alice" in g.output()

        # SIGTERM between polls: a clean stop, well within a second or two.
        started = time.monotonic()
        g.proc.send_signal(signal.SIGTERM)
        rc = g.proc.wait(timeout=10)
        assert rc == 0, g.output()
        assert time.monotonic() - started < 1.5, g.output()
        assert "guardian: stopped" in g.output()
    finally:
        g.stop()
        if conn.is_open:
            conn.close()


def test_once_polls_and_exits_zero(guardian_bin, guarded):
    cfg = write_config(["pulse.guardian.interval = 1"])
    try:
        r = run_once(guardian_bin, "--url", guarded.mgmt_url(), "-u", guarded.user,
                     "-p", guarded.password, "--config", cfg, "--amqp-url", guarded.amqp_url())
    finally:
        os.unlink(cfg)
    assert r.returncode == 0, r.stderr
    assert "guarding %s as %s (tags management)" % (guarded.mgmt_url(), guarded.user) in r.stderr


def test_once_with_a_bad_password_exits_77(guardian_bin, guarded):
    r = run_once(guardian_bin, "--url", guarded.mgmt_url(), "-u", guarded.user,
                 "-p", "wrong", "--amqp-url", "none")
    assert r.returncode == 77, r.stderr
    assert "login refused for user '%s'" % guarded.user in r.stderr


def test_password_from_the_environment(guardian_bin, guarded):
    env = dict(os.environ, PULSECTL_URL=guarded.mgmt_url(), PULSECTL_USER=guarded.user,
               PULSECTL_PASSWORD=guarded.password)
    r = subprocess.run([guardian_bin, "--once", "--amqp-url", "none"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_a_user_that_may_not_declare_the_exchange_runs_without_publishing(guardian_bin, guarded):
    # The guardian's user may configure nothing on the vhost it publishes to, where
    # exchange/pulse/guardian does not exist yet.
    r = guarded.api.put("/api/permissions/%s/%s" % (q(guarded.vhost), q(guarded.user)),
                        {"configure": "^$", "write": ".*", "read": ".*"})
    assert r.status in (201, 204)
    r = run_once(guardian_bin, "--url", guarded.mgmt_url(), "-u", guarded.user,
                 "-p", guarded.password, "--amqp-url", guarded.amqp_url())
    assert r.returncode == 0, r.stderr
    assert "cannot declare exchange/pulse/guardian" in r.stderr
    assert "notices will not be published" in r.stderr
    assert "configure permission" in r.stderr


def test_once_against_nothing_listening_exits_69(guardian_bin):
    port = free_port()
    r = run_once(guardian_bin, "--url", "http://%s:%d" % (HOST, port), "--amqp-url", "none")
    assert r.returncode == 69, r.stderr
    assert "cannot reach http://%s:%d" % (HOST, port) in r.stderr


def test_unreachable_without_once_keeps_trying_and_stops_on_sigterm(guardian_bin):
    port = free_port()
    p = subprocess.Popen([guardian_bin, "--url", "http://%s:%d" % (HOST, port), "--timeout", "2",
                          "--amqp-url", "none"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(1.5)
        assert p.poll() is None  # still running: it backs off and polls again
        p.send_signal(signal.SIGTERM)
        out, _ = p.communicate(timeout=5)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, out
    assert "cannot reach http://%s:%d" % (HOST, port) in out
    assert "retrying in" in out


@pytest.mark.parametrize("lines,error", [
    (["pulse.guardian.interval = 1", "pulse.guardian.intervall = 2"],
     ":2: unknown key 'pulse.guardian.intervall'"),
    (["# comment", "", "pulse.guardian.warn_queue_size = lots"],
     ":3: invalid value 'lots' for key 'pulse.guardian.warn_queue_size'"),
    (["pulse.smtp.hots = x"], ":1: unknown setting 'pulse.smtp.hots'"),
    (["listeners.tcp.default = 5672"],
     ":1: unknown key 'listeners.tcp.default': pulse-guardian reads only pulse.guardian.*"),
    (["pulse.guardian.enabled = false"], ":1: pulse.guardian.enabled = false"),
    (["pulse.guardian.interval"], ":1: expected 'key = value'"),
])
def test_bad_config_exits_2_naming_file_and_line(guardian_bin, lines, error):
    cfg = write_config(lines)
    try:
        r = run_once(guardian_bin, "--url", "http://%s:%d" % (HOST, free_port()),
                     "--config", cfg, "--amqp-url", "none")
    finally:
        os.unlink(cfg)
    assert r.returncode == 2, r.stderr
    assert "pulse-guardian: " + cfg + error in r.stderr


def test_help_and_usage_errors(guardian_bin):
    r = subprocess.run([guardian_bin, "--help"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0
    for word in ("--url", "--config", "--amqp-url", "--once", "PULSECTL_PASSWORD",
                 "EXIT STATUS", "exchange/pulse/guardian"):
        assert word in r.stdout
    r = subprocess.run([guardian_bin, "--amqp-url", "ftp://x"], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 2 and "--amqp-url" in r.stderr
    r = subprocess.run([guardian_bin, "--log-level", "loud"], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 2 and "--log-level" in r.stderr
