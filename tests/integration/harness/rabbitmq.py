"""A private RabbitMQ node under test (RabbitBroker) and its private epmd."""
import atexit
import os
import signal
import subprocess
import time
import urllib.parse

from harness.broker_base import (DEFINITIONS, HOST, BrokerHandle, _conf_value, _port_open,
                                 free_port)

RABBIT_BIN = "/usr/lib/rabbitmq/bin"


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

    def __init__(self, config=None, tls=False, tls_external=False, https=False, plugins=()):
        """tls=True adds a TLS listener (tls_port) with the harness certificates (certs.py),
        verify_peer without requiring a client certificate; tls_external=True also enables
        rabbitmq_auth_mechanism_ssl (EXTERNAL, the user is the client certificate's CN).
        https=True adds an HTTPS listener of the management plugin (https_port, same
        certificates) beside its plain one. plugins: more plugins to enable; rabbitmq_stomp gets
        a STOMP listener on a free port (stomp_port), rabbitmq_web_stomp (which needs
        rabbitmq_stomp) a Web-STOMP one (web_stomp_port)."""
        super().__init__(config)
        self.tls = tls or tls_external
        self.tls_external = tls_external
        self.tls_port = None
        self.https = https
        self.https_port = None
        self.certs = None
        self.plugins = list(plugins)

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
            if "rabbitmq_stomp" in self.plugins or "rabbitmq_web_stomp" in self.plugins:
                self.stomp_port = free_port()
            if "rabbitmq_web_stomp" in self.plugins:
                self.web_stomp_port = free_port()
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
        if self.stomp_port:
            lines["stomp.listeners.tcp.1"] = "%s:%d" % (HOST, self.stomp_port)
        if self.web_stomp_port:
            lines["web_stomp.tcp.ip"] = HOST
            lines["web_stomp.tcp.port"] = str(self.web_stomp_port)
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
        # RabbitMQ checks consumer_timeout only on its channel tick (every 60 s): a node given
        # a consumer_timeout ticks every 100 ms, so a test of seconds sees what pulsed does.
        advanced = os.path.join(self.tmp, "advanced.config")
        with open(advanced, "w") as f:
            f.write("[{rabbit, [{channel_tick_interval, 100}]}].\n"
                    if "consumer_timeout" in self.config else "[].\n")
        plugins = os.path.join(self.tmp, "enabled_plugins")
        extra = ",rabbitmq_auth_mechanism_ssl" if self.tls_external else ""
        extra += "".join("," + p for p in self.plugins)
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
