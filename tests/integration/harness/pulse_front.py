"""Pulse's HTTP API (/api/pulse) on both of its servers, for test_pulse_api.py: pulsed serves it
beside its management API; pulse-guardian (--listen) serves it in front of a RabbitMQ node, whose
own management API answers the rest. A `Front` gives the tests one client for both: /api/pulse
goes to whichever serves it, every other /api path to the broker's management API."""
import os
import shutil
import ssl
import subprocess
import tempfile
import time
import urllib.request

from harness.broker import HOST, built_tool, free_port
from harness.http_api import HttpApi, q

P = "/api/pulse"


class FrontApi(HttpApi):
    """HttpApi that sends /api/pulse/... to `pulse_port` and the rest to the broker."""

    def __init__(self, broker, pulse_port, user="guest", password="guest"):
        super().__init__(broker, user, password)
        self.pulse_port = pulse_port

    def as_user(self, user, password):
        other = super().as_user(user, password)
        other.__class__ = FrontApi
        other.pulse_port = self.pulse_port
        return other

    def request(self, method, path, **kw):
        if path.startswith(P) and self.pulse_port != self.port:
            saved, self.port = self.port, self.pulse_port
            try:
                return super().request(method, path, **kw)
            finally:
                self.port = saved
        return super().request(method, path, **kw)


class Guardian:
    """pulse-guardian --listen on a free port in front of `broker` (a RabbitBroker), guest as
    its management user, its accounts in a state file of its own."""

    def __init__(self, broker, config, extra=(), state_dir=None):
        self.broker = broker
        self.dir = state_dir or tempfile.mkdtemp(prefix="pulse-guardian-api-")
        self.state_file = os.path.join(self.dir, "state.json")
        self.config_path = os.path.join(self.dir, "guardian.conf")
        with open(self.config_path, "w") as f:
            for k, v in config.items():
                f.write("%s = %s\n" % (k, str(v).lower() if isinstance(v, bool) else v))
        self.port = free_port()
        self.extra = list(extra)
        self.proc = None
        self.log_path = os.path.join(self.dir, "guardian.log")

    def command(self):
        return [built_tool("PULSE_GUARDIAN_BIN", "pulse-guardian"),
                "--url", "http://%s:%d" % (HOST, self.broker.http_port), "-u", "guest",
                "-p", "guest", "--timeout", "5", "--config", self.config_path,
                "--amqp-url", "amqp://guest:guest@%s:%d/%%2F" % (HOST, self.broker.port),
                "--listen", "%s:%d" % (HOST, self.port), "--state-file", self.state_file
                ] + self.extra

    def start(self, timeout=20):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(self.command(), stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("pulse-guardian exited %s:\n%s" % (self.proc.returncode,
                                                                      self.output()))
            try:
                tls = "--listen-cert" in self.extra
                ctx = ssl._create_unverified_context() if tls else None
                urllib.request.urlopen("%s://%s:%d/api/pulse/whoami" % (
                    "https" if tls else "http", HOST, self.port), timeout=1, context=ctx)
            except urllib.error.HTTPError:
                return self  # answering (401 without credentials)
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("pulse-guardian did not listen:\n" + self.output())

    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
        self.proc = None

    def restart(self):
        self.stop()
        return self.start()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Front:
    """Where the tests reach Pulse's API: `broker` (AMQP, management API), and `api()`.
    `name` is "pulsed" or "guardian" (pulse-guardian in front of RabbitMQ)."""

    def __init__(self, name, broker, guardian=None):
        self.name, self.broker, self.guardian = name, broker, guardian

    def __repr__(self):
        return "<Front %s>" % self.name

    def api(self, user="guest", password="guest"):
        port = self.guardian.port if self.guardian else self.broker.http_port
        return FrontApi(self.broker, port, user, password)

    def restart(self):
        """What a restart of the API's server is: pulsed itself, or pulse-guardian (RabbitMQ
        keeps running)."""
        if self.guardian:
            self.guardian.restart()
        else:
            self.broker.restart()

    def stop(self):
        if self.guardian:
            self.guardian.cleanup()
        else:
            self.broker.stop()


class RabbitLeftovers:
    """The RabbitMQ node is shared by the session: the users and queues a module made there
    are removed when it ends, so names can be used again by other modules."""

    def __init__(self, broker):
        self.api = HttpApi(broker)
        self.users = {u["name"] for u in self.api.get("/api/users").json}
        self.queues = {(x["vhost"], x["name"]) for x in self.api.get("/api/queues").json}
        self.exchanges = {(x["vhost"], x["name"]) for x in self.api.get("/api/exchanges").json}

    def clean(self):
        for u in self.api.get("/api/users").json:
            if u["name"] not in self.users:
                self.api.delete("/api/users/" + q(u["name"]))
        for x in self.api.get("/api/queues").json:
            if (x["vhost"], x["name"]) not in self.queues:
                self.api.delete("/api/queues/%s/%s" % (q(x["vhost"]), q(x["name"])))
        for x in self.api.get("/api/exchanges").json:
            if (x["vhost"], x["name"]) not in self.exchanges:
                self.api.delete("/api/exchanges/%s/%s" % (q(x["vhost"]), q(x["name"])))
