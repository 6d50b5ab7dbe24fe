"""pulsed under test (PulsedBroker), its binary and the tools built beside it."""
import os
import re
import signal
import subprocess
import threading
import time

from harness.broker_base import (DEFINITIONS, HOST, REPO, BrokerHandle, _conf_value, free_port,
                                 host_port)

class _PortTaken(RuntimeError):
    pass


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
                self.port = self.http_port = self.prometheus_port = self.stomp_port = None
                self.web_stomp_port = None

    def _start(self, timeout, definitions):
        binary = pulsed_binary()
        self._stopped = False
        if self.port is None:
            self.port = free_port()
        if self.http_port is None:
            self.http_port = free_port()
        if self.prometheus_port is None:
            self.prometheus_port = free_port()
        if self.stomp_port is None:
            self.stomp_port = free_port()
        if self.web_stomp_port is None:
            self.web_stomp_port = free_port()
        self.write_config()
        self.ready = threading.Event()
        self._logf = open(self.log_path, "a")
        args = [binary, "--data-dir", self.data_dir,
                "--amqp-listen", host_port(self.host, self.port),
                "--stomp-listen", "%s:%d" % (HOST, self.stomp_port),
                "--web-stomp-listen", "%s:%d" % (HOST, self.web_stomp_port),
                "--config", self.config_path]
        if self.plain_http:
            args += ["--http-listen", "%s:%d" % (HOST, self.http_port),
                     "--prometheus-listen", "%s:%d" % (HOST, self.prometheus_port)]
        if self.log_level:
            args += ["--log-level", self.log_level]
        if os.environ.get("PULSE_WEB_DIR"):
            # Pages from another tree than the binary's (a copied pulsed, a web/ being edited).
            args += ["--web-dir", os.environ["PULSE_WEB_DIR"]]
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
                        "--prometheus-listen", "%s:%d" % (HOST, free_port()),
                        "--stomp-listen", "%s:%d" % (HOST, free_port()),
                        "--web-stomp-listen", "%s:%d" % (HOST, free_port())] + list(extra_args),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                       timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace")
