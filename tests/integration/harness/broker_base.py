"""What both brokers under test share: the paths, the host, free ports, the target's name,
and BrokerHandle (client helpers, logs, temporary directory). pulsed is in pulsed.py, RabbitMQ in
rabbitmq.py; broker.py gathers them for the tests."""
import atexit
import os
import shutil
import socket
import tempfile
import threading
import time
import urllib.parse

import pika

HERE = os.path.dirname(os.path.abspath(__file__))
INTEG_DIR = os.path.dirname(HERE)
REPO = os.path.dirname(os.path.dirname(INTEG_DIR))
DEFINITIONS = os.path.join(INTEG_DIR, "fixtures", "definitions.json")
HOST = "127.0.0.1"

_counter = 0
_lock = threading.Lock()


def target_name():
    t = os.environ.get("PULSE_TEST_TARGET", "pulsed").strip().lower()
    if t not in ("pulsed", "rabbitmq"):
        raise RuntimeError("PULSE_TEST_TARGET must be 'pulsed' or 'rabbitmq', got %r" % t)
    return t


_issued_ports = set()


def free_port():
    """A port nothing listens on, never the same one twice in this process: bind(0) hands out
    random ports, so a broker's three listeners used to collide now and then."""
    while True:
        s = socket.socket()
        s.bind((HOST, 0))
        p = s.getsockname()[1]
        s.close()
        if p not in _issued_ports:
            _issued_ports.add(p)
            return p


def _port_open(port, timeout=0.2, host=HOST):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _conf_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


class BrokerHandle:
    target = None

    def __init__(self, config=None):
        global _counter
        with _lock:
            _counter += 1
            self.index = _counter
        self.config = dict(config or {})
        self.host = HOST
        self.port = None
        self.http_port = None  # management HTTP API (pulsed --http-listen, RabbitMQ's plugin)
        self.prometheus_port = None  # /metrics (pulsed --prometheus-listen, rabbitmq_prometheus)
        self.stomp_port = None  # STOMP (pulsed --stomp-listen, rabbitmq_stomp when enabled)
        # Web-STOMP's own listener (pulsed --web-stomp-listen, rabbitmq_web_stomp when enabled)
        self.web_stomp_port = None
        self.tmp = tempfile.mkdtemp(prefix="pulse-it-%s-%d-" % (self.target, self.index))
        self.data_dir = os.path.join(self.tmp, "data")
        os.makedirs(self.data_dir)
        self.log_path = os.path.join(self.tmp, "broker.log")
        self.proc = None
        self._stopped = False
        atexit.register(self._atexit)

    # -- client helpers --------------------------------------------------
    def url(self, user="guest", password="guest", vhost="/"):
        return "amqp://%s:%s@%s:%d/%s" % (
            urllib.parse.quote(user, safe=""),
            urllib.parse.quote(password, safe=""),
            self.host, self.port,
            urllib.parse.quote(vhost, safe=""))

    def pika_params(self, user="guest", password="guest", vhost="/", **kw):
        kw.setdefault("connection_attempts", 1)
        kw.setdefault("socket_timeout", 10)
        kw.setdefault("blocked_connection_timeout", None)
        return pika.ConnectionParameters(
            host=self.host, port=self.port, virtual_host=vhost,
            credentials=pika.PlainCredentials(user, password), **kw)

    def connect(self, user="guest", password="guest", vhost="/", **kw):
        return pika.BlockingConnection(self.pika_params(user, password, vhost, **kw))

    @property
    def pid(self):
        """Process id of the broker's server process (pulsed itself, or RabbitMQ's beam.smp)."""
        raise NotImplementedError

    def rss(self):
        """Resident memory of the broker process in bytes (VmRSS), None if it is not running."""
        from harness.procfs import rss_bytes
        return rss_bytes(self.pid)

    def log_tail(self, n=60):
        out = []
        for root, _dirs, files in os.walk(self.tmp):
            for f in files:
                if f.endswith(".log") or f.endswith(".out"):
                    p = os.path.join(root, f)
                    try:
                        with open(p, errors="replace") as fh:
                            lines = fh.readlines()[-n:]
                        out.append("==> %s <==\n%s" % (p, "".join(lines)))
                    except OSError:
                        pass
        return "\n".join(out)

    def _wait_pika(self, deadline):
        last = None
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s during startup\n%s"
                                   % (self.target, self.proc.returncode, self.log_tail()))
            if self.port and _port_open(self.port, host=self.host):
                try:
                    c = self.connect()
                    c.close()
                    return
                except Exception as e:  # noqa
                    last = e
            time.sleep(0.2)
        raise RuntimeError("%s did not become ready: %r\n%s" % (self.target, last, self.log_tail()))

    def _atexit(self):
        try:
            self.stop()
        except Exception:
            pass

    def cleanup_tmp(self):
        if os.environ.get("PULSE_TEST_KEEP_TMP") != "1":
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __repr__(self):
        return "<%s broker %s:%s config=%r>" % (self.target, self.host, self.port, self.config)


def host_port(host, port):
    """pulsed's HOST:PORT form: IPv6 addresses in brackets."""
    return ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)


def ipv6_loopback_available():
    """Whether this machine can bind ::1 (not where IPv6 is disabled)."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False
