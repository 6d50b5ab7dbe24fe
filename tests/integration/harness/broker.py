"""Start/stop the broker under test: pulsed or a private RabbitMQ node."""
import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse

import pika

HERE = os.path.dirname(os.path.abspath(__file__))
INTEG_DIR = os.path.dirname(HERE)
REPO = os.path.dirname(os.path.dirname(INTEG_DIR))
DEFINITIONS = os.path.join(INTEG_DIR, "fixtures", "definitions.json")
RABBIT_BIN = "/usr/lib/rabbitmq/bin"
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


class _PortTaken(RuntimeError):
    pass


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


class PulsedBroker(BrokerHandle):
    target = "pulsed"

    def __init__(self, config=None, definitions_path=DEFINITIONS, log_level="info",
                 amqp_host=HOST, plain_http=True):
        """log_level=None leaves --log-level out (the config file's log.console.level rules);
        amqp_host is the address --amqp-listen names and clients connect to ("::1");
        plain_http=False leaves --http-listen and --prometheus-listen out (the config decides)."""
        super().__init__(config)
        self.plain_http = plain_http
        self.definitions_path = definitions_path
        self.log_level = log_level
        self.host = amqp_host
        self.config_path = os.path.join(self.tmp, "pulsed.conf")

    def write_config(self, config=None, text=None):
        """Rewrites the config file pulsed reads at start and on SIGHUP: from `config` (a dict,
        kept as self.config) or verbatim `text`."""
        if config is not None:
            self.config = dict(config)
        if text is None:
            text = "".join("%s = %s\n" % (k, _conf_value(v)) for k, v in self.config.items())
        with open(self.config_path, "w") as f:
            f.write(text)

    @property
    def pid(self):
        return self.proc.pid

    def start(self, timeout=30, definitions=True):
        """Starts pulsed on self.data_dir with --definitions self.definitions_path;
        definitions=False leaves it out."""
        chosen = self.port is None and self.http_port is None and self.prometheus_port is None
        for attempt in range(3):
            try:
                return self._start(timeout, definitions)
            except _PortTaken:
                # A client's ephemeral port can take a free port before pulsed binds it.
                if not chosen or attempt == 2:
                    raise
                self.port = self.http_port = self.prometheus_port = None

    def _start(self, timeout, definitions):
        binary = pulsed_binary()
        self._stopped = False
        if self.port is None:
            self.port = free_port()
        if self.http_port is None:
            self.http_port = free_port()
        if self.prometheus_port is None:
            self.prometheus_port = free_port()
        self.write_config()
        self.ready = threading.Event()
        self._logf = open(self.log_path, "a")
        args = [binary, "--data-dir", self.data_dir,
                "--amqp-listen", host_port(self.host, self.port),
                "--config", self.config_path]
        if self.plain_http:
            args += ["--http-listen", "%s:%d" % (HOST, self.http_port),
                     "--prometheus-listen", "%s:%d" % (HOST, self.prometheus_port)]
        if self.log_level:
            args += ["--log-level", self.log_level]
        if definitions:
            args += ["--definitions", self.definitions_path]
        self.proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        pat = re.compile(re.escape("listening on " + host_port(self.host, self.port)) + r"(?!\d)")

        def pump():
            for raw in self.proc.stdout:
                line = raw.decode(errors="replace")
                self._logf.write(line)
                self._logf.flush()
                if pat.search(line):
                    self.ready.set()
        self._pump = threading.Thread(target=pump, daemon=True)
        self._pump.start()
        deadline = time.time() + timeout
        while not self.ready.wait(0.05):
            if self.proc.poll() is not None or time.time() > deadline:
                self._pump.join(2)  # the last words, before stop() removes the log
                tail = self.log_tail()
                message = "pulsed failed to start (rc=%s)\n%s" % (self.proc.returncode, tail)
                if "Address already in use" in tail:
                    self._terminate(check=False)  # keeps the directory for the next attempt
                    raise _PortTaken(message)
                self.stop(check=False)
                raise RuntimeError(message)
        try:
            self._wait_pika(deadline)
        except RuntimeError as e:
            if self.proc.poll() is not None and "Address already in use" in str(e):
                self._terminate(check=False)
                raise _PortTaken(str(e)) from e
            raise
        return self

    def restart(self, kill=False, definitions=True, timeout=30):
        """Stops pulsed (SIGTERM, or SIGKILL with kill=True) and starts it again on the same
        data directory and port."""
        self.stop_process(kill=kill)
        return self.start(timeout=timeout, definitions=definitions)

    def stop_process(self, kill=False, check=True):
        """Stops the process but keeps the data directory (see restart)."""
        if kill and self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        rc = self._terminate(check=check and not kill)
        self._stopped = True
        return rc

    def stop(self, check=True):
        if self._stopped or self.proc is None:
            return
        self._terminate(check)
        self._stopped = True
        self.cleanup_tmp()

    def _terminate(self, check):
        if self.proc is None:
            return None
        rc = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(5)
                if check:
                    raise RuntimeError("pulsed did not exit within 10 s of SIGTERM (killed)")
        else:
            rc = self.proc.returncode
        self._pump.join(2)
        self._logf.close()
        if check and rc != 0:
            raise RuntimeError("pulsed exited with %s after SIGTERM\n%s" % (rc, self.log_tail()))
        return rc


def pulsed_binary():
    binary = os.environ.get("PULSED_BIN", os.path.join(REPO, "build", "src", "app", "pulsed"))
    if not os.access(binary, os.X_OK):
        raise RuntimeError("pulsed binary not found: %s (set PULSED_BIN)" % binary)
    return binary


def tool_binary(env, name):
    """A tool built beside pulsed (tools/<name>/<name>): `env` names it explicitly, else it is
    looked for in the build tree PULSED_BIN comes from, else in the repository's build/."""
    explicit = os.environ.get(env)
    if explicit:
        return explicit
    pulsed = os.environ.get("PULSED_BIN")
    if pulsed:
        build = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(pulsed))))
        candidate = os.path.join(build, "tools", name, name)
        if os.access(candidate, os.X_OK):
            return candidate
    return os.path.join(REPO, "build", "tools", name, name)


def built_tool(env, name):
    """tool_binary(), failing the test when it is not built (a missing tool is a broken build,
    never a reason to skip)."""
    import pytest
    binary = tool_binary(env, name)
    if not os.access(binary, os.X_OK):
        pytest.fail("%s not built: %s (set %s)" % (name, binary, env))
    return binary


def run_pulsed_until_exit(data_dir, timeout=20, extra_args=()):
    """Runs pulsed on `data_dir` expecting it to refuse to start: returns (rc, output)."""
    p = subprocess.run([pulsed_binary(), "--data-dir", data_dir,
                        "--amqp-listen", "%s:%d" % (HOST, free_port()),
                        "--http-listen", "%s:%d" % (HOST, free_port()),
                        "--prometheus-listen", "%s:%d" % (HOST, free_port())] + list(extra_args),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                       timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace")


class _Epmd:
    """One private epmd per pytest process, on a free port, 127.0.0.1 only."""
    proc = None
    port = None

    @classmethod
    def ensure(cls):
        if cls.proc is not None and cls.proc.poll() is None:
            return cls.port
        cls.port = free_port()
        env = dict(os.environ, ERL_EPMD_ADDRESS=HOST)
        cls.proc = subprocess.Popen(["epmd", "-port", str(cls.port)], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True)
        deadline = time.time() + 10
        while not _port_open(cls.port):
            if time.time() > deadline or cls.proc.poll() is not None:
                raise RuntimeError("private epmd failed to start")
            time.sleep(0.05)
        atexit.register(cls.stop)
        return cls.port

    @classmethod
    def stop(cls):
        if cls.proc is not None and cls.proc.poll() is None:
            cls.proc.terminate()
            try:
                cls.proc.wait(5)
            except subprocess.TimeoutExpired:
                cls.proc.kill()
                cls.proc.wait()
        cls.proc = None


class RabbitBroker(BrokerHandle):
    target = "rabbitmq"

    def __init__(self, config=None, tls=False, tls_external=False, https=False):
        """tls=True adds a TLS listener (tls_port) with the harness certificates (certs.py),
        verify_peer without requiring a client certificate; tls_external=True also enables
        rabbitmq_auth_mechanism_ssl (EXTERNAL, the user is the client certificate's CN).
        https=True adds an HTTPS listener of the management plugin (https_port, same
        certificates) beside its plain one."""
        super().__init__(config)
        self.tls = tls or tls_external
        self.tls_external = tls_external
        self.tls_port = None
        self.https = https
        self.https_port = None
        self.certs = None

    @property
    def pid(self):
        with open(os.path.join(self.tmp, "rabbit.pid")) as f:
            return int(f.read().strip())

    def start(self, timeout=90):
        if self.port is None:  # a restart keeps the port and node name (and so the data)
            self.port = free_port()
            self.nodename = "pulsetest-%d-%d@localhost" % (os.getpid(), self.index)
            self.http_port = free_port()
            self.prometheus_port = free_port()
            if self.tls:
                self.tls_port = free_port()
            if self.https:
                self.https_port = free_port()
        self._stopped = False
        dist_port = free_port()
        epmd_port = _Epmd.ensure()
        home = os.path.join(self.tmp, "home")
        logs = os.path.join(self.tmp, "log")
        for d in (home, logs):
            os.makedirs(d, exist_ok=True)
        conf = os.path.join(self.tmp, "rabbitmq.conf")
        lines = {
            "listeners.tcp.default": "%s:%d" % (HOST, self.port),
            "definitions.import_backend": "local_filesystem",
            "definitions.local.path": DEFINITIONS,
            "log.console": "false",
            "log.file.level": "info",
            "disk_free_limit.absolute": "1MB",
            "management.tcp.ip": HOST,
            "management.tcp.port": str(self.http_port),
            "prometheus.tcp.ip": HOST,
            "prometheus.tcp.port": str(self.prometheus_port),
        }
        if self.tls:
            lines.update(self._tls_conf())
        if self.https:
            lines.update(self._https_conf())
        # A None value removes a key the harness writes by default (e.g. management.tcp.*).
        lines.update({k: _conf_value(v) for k, v in self.config.items() if v is not None})
        for k in [k for k, v in self.config.items() if v is None]:
            lines.pop(k, None)
        with open(conf, "w") as f:
            for k, v in lines.items():
                f.write("%s = %s\n" % (k, v))
        plugins = os.path.join(self.tmp, "enabled_plugins")
        extra = ",rabbitmq_auth_mechanism_ssl" if self.tls_external else ""
        with open(plugins, "w") as f:
            f.write("[rabbitmq_management,rabbitmq_prometheus%s].\n" % extra)
        envconf = os.path.join(self.tmp, "rabbitmq-env.conf")
        open(envconf, "w").close()
        self.env = dict(
            os.environ,
            HOME=home,
            RABBITMQ_NODENAME=self.nodename,
            RABBITMQ_CONFIG_FILE=conf,
            RABBITMQ_ADVANCED_CONFIG_FILE=os.path.join(self.tmp, "advanced.config"),
            RABBITMQ_CONF_ENV_FILE=envconf,
            RABBITMQ_MNESIA_BASE=self.data_dir,
            RABBITMQ_LOG_BASE=logs,
            RABBITMQ_ENABLED_PLUGINS_FILE=plugins,
            RABBITMQ_PLUGINS_EXPAND_DIR=os.path.join(self.tmp, "plugins-expand"),
            RABBITMQ_PID_FILE=os.path.join(self.tmp, "rabbit.pid"),
            RABBITMQ_DIST_PORT=str(dist_port),
            RABBITMQ_NODE_IP_ADDRESS=HOST,
            ERL_EPMD_PORT=str(epmd_port),
            ERL_EPMD_ADDRESS=HOST,
            RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}",
        )
        self._out = open(os.path.join(self.tmp, "server.out"), "a")
        self.proc = subprocess.Popen(
            [os.path.join(RABBIT_BIN, "rabbitmq-server")], env=self.env, cwd=self.tmp,
            stdout=self._out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        try:
            deadline = time.time() + timeout
            self._wait_pika(deadline)
            while self.https and not _port_open(self.https_port):
                if time.time() > deadline:
                    raise RuntimeError("no HTTPS management listener on %d\n%s"
                                       % (self.https_port, self.log_tail()))
                time.sleep(0.1)
        except Exception:
            self.stop(check=False)
            raise
        return self

    def _tls_conf(self):
        from harness.certs import certs
        self.certs = certs()
        lines = {
            "listeners.ssl.default": "%s:%d" % (HOST, self.tls_port),
            "ssl_options.cacertfile": self.certs.ca,
            "ssl_options.certfile": self.certs.server_cert,
            "ssl_options.keyfile": self.certs.server_key,
            "ssl_options.verify": "verify_peer",
            "ssl_options.fail_if_no_peer_cert": "false",
        }
        if self.tls_external:
            lines.update({
                "auth_mechanisms.1": "PLAIN",
                "auth_mechanisms.2": "AMQPLAIN",
                "auth_mechanisms.3": "EXTERNAL",
                "ssl_cert_login_from": "common_name",
            })
        return lines

    def _https_conf(self):
        from harness.certs import certs
        self.certs = certs()
        return {
            "management.ssl.ip": HOST,
            "management.ssl.port": str(self.https_port),
            "management.ssl.cacertfile": self.certs.ca,
            "management.ssl.certfile": self.certs.server_cert,
            "management.ssl.keyfile": self.certs.server_key,
        }

    def https_url(self, host="localhost"):
        """The management API's HTTPS base URL (https=True)."""
        return "https://%s:%d" % (host, self.https_port)

    def tls_url(self, user="guest", password="guest", vhost="/", host="localhost", query=None):
        """An amqps:// URI for the TLS listener; query: dict of extra URI query keys."""
        url = "amqps://%s:%s@%s:%d/%s" % (
            urllib.parse.quote(user, safe=""), urllib.parse.quote(password, safe=""),
            host, self.tls_port, urllib.parse.quote(vhost, safe=""))
        if query:
            url += "?" + urllib.parse.urlencode(query)
        return url

    def import_definitions(self, path):
        """Imports a RabbitMQ definitions file into the running node (rabbitmqctl)."""
        r = self.ctl("import_definitions", path)
        if r.returncode != 0:
            raise RuntimeError("import_definitions %s failed (rc=%d)\n%s%s"
                               % (path, r.returncode, r.stdout, r.stderr))

    def ctl(self, *args, timeout=60):
        """Run rabbitmqctl against this node (RabbitMQ only)."""
        return subprocess.run([os.path.join(RABBIT_BIN, "rabbitmqctl"), "-n", self.nodename] + list(args),
                              env=self.env, capture_output=True, text=True, timeout=timeout)

    def restart(self, kill=False, timeout=90):
        """Stops the node (SIGTERM, or SIGKILL of its whole process group with kill=True) and
        starts it again on the same data directory, node name and port. Slow (a boot takes
        10-20 s): meant for checking restart semantics against RabbitMQ by hand; the suite's
        restart tests are pulsed-only."""
        self.stop_process(kill=kill)
        return self.start(timeout=timeout)

    def stop_process(self, kill=False):
        """Stops the node but keeps its directory (see restart)."""
        self._stop_node(signal.SIGKILL if kill else signal.SIGTERM)
        self._stopped = True

    def stop(self, check=True):
        if self._stopped or self.proc is None:
            if self.proc is not None:
                self.cleanup_tmp()
            return
        self._stop_node(signal.SIGTERM)
        self._stopped = True
        self.cleanup_tmp()

    def _stop_node(self, sig):
        pgid = self.proc.pid
        if self.proc.poll() is None:
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(45)
            except subprocess.TimeoutExpired:
                pass
        # make sure nothing of the node's process group survives
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self._out.close()


def make_broker(config=None):
    cls = RabbitBroker if target_name() == "rabbitmq" else PulsedBroker
    return cls(config)
