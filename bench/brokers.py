"""Starting and stopping the two brokers with equivalent settings, and what they cost (/proc).

pulsed: default configuration, a fresh data directory, every listener (AMQP, management HTTP,
Prometheus) on a free 127.0.0.1 port, so that a pulsed on the default ports does not matter.
RabbitMQ: Debian's rabbitmq-server as a private node (own node name, epmd, data and log
directories, free ports, no plugins, so the management plugin is off), default configuration
otherwise. For the AMQPS scenarios both also get a TLS listener with the same certificate and
the same rabbitmq.conf keys (listeners.ssl.default, ssl_options.*). Both are started in their own process group so that kill -9 takes everything."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from amqp_min import Client

HOST = "127.0.0.1"
RABBIT_BIN = "/usr/lib/rabbitmq/bin"
CLK_TCK = os.sysconf("SC_CLK_TCK")


_issued_ports = set()


def free_port():
    """Never the same port twice in this process (bind(0) may repeat one)."""
    while True:
        s = socket.socket()
        s.bind((HOST, 0))
        port = s.getsockname()[1]
        s.close()
        if port not in _issued_ports:
            _issued_ports.add(port)
            return port


def port_open(port, timeout=0.2):
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


# -- /proc ------------------------------------------------------------------------------------
def _stat(pid):
    with open("/proc/%d/stat" % pid) as f:
        data = f.read()
    rest = data[data.rindex(")") + 2:].split()  # fields from 3 (state) on
    return int(rest[1]), [int(x) for x in rest[11:15]]  # ppid; utime stime cutime cstime


def cpu_seconds(root):
    """utime+stime of `root` and every descendant (plus what they reaped), in seconds."""
    parents, times = {}, {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            ppid, t = _stat(int(name))
        except (OSError, ValueError, IndexError):
            continue
        parents[int(name)] = ppid
        times[int(name)] = sum(t)
    total = 0
    for pid, t in times.items():
        p = pid
        while p and p != root:
            p = parents.get(p, 0)
        if p == root:
            total += t
    return total / CLK_TCK


def rss_bytes(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def stable_rss(pid, settle=2.0, timeout=30.0, tolerance=0.01):
    """Waits until RSS has moved less than `tolerance` (relative) for `settle` seconds."""
    deadline = time.time() + timeout
    last = rss_bytes(pid)
    since = time.time()
    while time.time() < deadline:
        time.sleep(0.25)
        v = rss_bytes(pid)
        if v is None or last is None or abs(v - last) > tolerance * last:
            last, since = v, time.time()
        elif time.time() - since >= settle:
            break
    return rss_bytes(pid)


# -- brokers ----------------------------------------------------------------------------------
class StartFailed(RuntimeError):
    """A broker that exited or never let a client in; the text carries its own log's tail."""


class Broker:
    name = None

    def __init__(self, workdir, certs=None):
        """certs (tls.Certs): also listen for AMQPS on tls_port with that certificate."""
        self.tmp = tempfile.mkdtemp(prefix="pulse-bench-%s-" % self.name, dir=workdir)
        self.data_dir = os.path.join(self.tmp, "data")
        os.makedirs(self.data_dir)
        self.port = free_port()
        self.certs = certs
        self.tls_port = free_port() if certs else None
        self.proc = None
        self.ready_s = None

    def uri(self):
        return "amqp://guest:guest@%s:%d/%%2F" % (HOST, self.port)

    def tls_uri(self):
        """amqps:// to "localhost" (the certificate's name: the host name is verified too)."""
        return "amqps://guest:guest@localhost:%d/%%2F?cacertfile=%s" % (self.tls_port,
                                                                          self.certs.ca)

    def tls_conf(self):
        """The AMQPS listener in rabbitmq.conf's words (pulsed reads the same keys)."""
        if not self.certs:
            return {}
        return {
            "listeners.ssl.default": "%s:%d" % (HOST, self.tls_port),
            "ssl_options.cacertfile": self.certs.ca,
            "ssl_options.certfile": self.certs.cert,
            "ssl_options.keyfile": self.certs.key,
            "ssl_options.verify": "verify_none",
            "ssl_options.fail_if_no_peer_cert": "false",
        }

    def wait_tls(self, timeout=30):
        deadline = time.time() + timeout
        while self.tls_port and not port_open(self.tls_port):
            if time.time() > deadline or self.proc.poll() is not None:
                raise StartFailed("%s: no AMQPS listener on %d\n%s"
                                  % (self.name, self.tls_port, self.log_tail()))
            time.sleep(0.05)

    def client(self, timeout=10.0):
        return Client(HOST, self.port, timeout=timeout)

    def wait_ready(self, timeout, queue=None):
        """Waits until a client can log in (and, with `queue`, basic.get a message from it);
        returns the seconds since `self.started_at`."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise StartFailed("%s exited with %s during start-up\n%s"
                                  % (self.name, self.proc.returncode, self.log_tail()))
            if port_open(self.port):
                try:
                    with self.client(timeout=max(1.0, deadline - time.time())) as c:
                        if queue is None or c.basic_get(queue, no_ack=False):
                            return time.time() - self.started_at
                except Exception as e:  # noqa: BLE001 (booting brokers fail in many ways)
                    last = e
            time.sleep(0.02)
        raise StartFailed("%s not ready after %ds: %r\n%s"
                          % (self.name, timeout, last, self.log_tail()))

    def log_tail(self, n=30):
        out = []
        for root, _dirs, files in os.walk(self.tmp):
            for f in files:
                if f.endswith((".log", ".out")):
                    with open(os.path.join(root, f), errors="replace") as fh:
                        out.append("==> %s\n%s" % (f, "".join(fh.readlines()[-n:])))
        return "\n".join(out)

    def cpu(self):
        return cpu_seconds(self.pid)

    def rss(self):
        return rss_bytes(self.pid)

    def kill9(self):
        """SIGKILL to the whole process group; the data directory stays."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(30)
        self._wait_group_gone()

    def stop(self, kill=False):
        """SIGTERM (SIGKILL at once with kill=True, or after a minute); removes the
        directory."""
        if not kill and self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                pass
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._wait_group_gone()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _wait_group_gone(self):
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


class Pulsed(Broker):
    name = "pulsed"

    def __init__(self, workdir, binary, certs=None):
        super().__init__(workdir, certs)
        self.binary = binary

    @property
    def pid(self):
        return self.proc.pid

    def start(self, timeout=60, queue=None):
        self.log = open(os.path.join(self.tmp, "pulsed.log"), "a")
        # Every listener on a free port: a pulsed started by scripts/setup.sh may hold
        # the defaults (5672, 15672, 15692, 61613).
        args = [self.binary, "--data-dir", self.data_dir, "--log-level", "warning",
                "--amqp-listen", "%s:%d" % (HOST, self.port),
                "--http-listen", "%s:%d" % (HOST, free_port()),
                "--prometheus-listen", "%s:%d" % (HOST, free_port()),
                "--stomp-listen", "%s:%d" % (HOST, free_port()),
                "--web-stomp-listen", "%s:%d" % (HOST, free_port())]
        if self.certs:
            conf = os.path.join(self.tmp, "pulsed.conf")
            with open(conf, "w") as f:
                f.writelines("%s = %s\n" % kv for kv in self.tls_conf().items())
            args += ["--config", conf]
        self.started_at = time.time()
        self.proc = subprocess.Popen(
            args, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        self.ready_s = self.wait_ready(timeout, queue)
        self.wait_tls()
        return self.ready_s


class Epmd:
    """A private epmd on a free port, 127.0.0.1 only, for all RabbitMQ nodes of a run."""

    def __init__(self):
        self.port = free_port()
        env = dict(os.environ, ERL_EPMD_ADDRESS=HOST)
        self.proc = subprocess.Popen(["epmd", "-port", str(self.port)], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.time() + 10
        while not port_open(self.port):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("private epmd failed to start")
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class Rabbit(Broker):
    name = "rabbitmq"
    _seq = 0

    def __init__(self, workdir, epmd, certs=None):
        super().__init__(workdir, certs)
        Rabbit._seq += 1
        self.epmd = epmd
        self.nodename = "pulsebench-%d-%d@localhost" % (os.getpid(), Rabbit._seq)
        self.pid_file = os.path.join(self.tmp, "rabbit.pid")
        self.dist_port = free_port()

    @property
    def pid(self):
        """beam.smp (the pid file is written by the node itself)."""
        with open(self.pid_file) as f:
            return int(f.read().strip())

    def start(self, timeout=120, queue=None):
        home, logs = os.path.join(self.tmp, "home"), os.path.join(self.tmp, "log")
        for d in (home, logs):
            os.makedirs(d, exist_ok=True)
        conf = os.path.join(self.tmp, "rabbitmq.conf")
        with open(conf, "w") as f:
            f.write("listeners.tcp.default = %s:%d\n" % (HOST, self.port))
            f.write("log.console = false\n")
            f.writelines("%s = %s\n" % kv for kv in self.tls_conf().items())
        plugins = os.path.join(self.tmp, "enabled_plugins")
        with open(plugins, "w") as f:
            f.write("[].\n")  # no management plugin: pulsed has none yet
        envconf = os.path.join(self.tmp, "rabbitmq-env.conf")
        open(envconf, "w").close()
        env = dict(
            os.environ, HOME=home, RABBITMQ_NODENAME=self.nodename,
            RABBITMQ_CONFIG_FILE=conf,
            RABBITMQ_ADVANCED_CONFIG_FILE=os.path.join(self.tmp, "advanced.config"),
            RABBITMQ_CONF_ENV_FILE=envconf, RABBITMQ_MNESIA_BASE=self.data_dir,
            RABBITMQ_LOG_BASE=logs, RABBITMQ_ENABLED_PLUGINS_FILE=plugins,
            RABBITMQ_PLUGINS_EXPAND_DIR=os.path.join(self.tmp, "plugins-expand"),
            RABBITMQ_PID_FILE=self.pid_file, RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_NODE_IP_ADDRESS=HOST, ERL_EPMD_PORT=str(self.epmd.port),
            ERL_EPMD_ADDRESS=HOST,
            RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}")
        if os.path.exists(self.pid_file):
            os.unlink(self.pid_file)
        self.out = open(os.path.join(self.tmp, "server.out"), "a")
        self.started_at = time.time()
        self.proc = subprocess.Popen(
            [os.path.join(RABBIT_BIN, "rabbitmq-server")], env=env, cwd=self.tmp,
            stdout=self.out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        self.ready_s = self.wait_ready(timeout, queue)
        self.wait_tls()
        return self.ready_s
