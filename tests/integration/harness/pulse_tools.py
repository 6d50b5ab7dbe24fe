"""pulse-listen and pulse-publish driven as a user would drive them (see the CLI contract in
tools/pulse-listen and tools/pulse-publish): processes, their stdout and stderr read on threads."""
import json
import re
import signal
import subprocess
import threading
import time

from harness.broker import built_tool

SUMMARY = re.compile(r"^pulse-publish: (\d+) published, (\d+) confirmed, (\d+) failed$")


def listen_binary():
    return built_tool("PULSE_LISTEN_BIN", "pulse-listen")


def publish_binary():
    return built_tool("PULSE_PUBLISH_BIN", "pulse-publish")


class _Process:
    """A tool process whose stdout and stderr lines are collected as they come."""

    def __init__(self, argv, stdin=subprocess.DEVNULL):
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.out, self.err = [], []
        self._cond = threading.Condition()
        self._readers = [threading.Thread(target=self._read, args=(s, lines), daemon=True)
                         for s, lines in ((self.proc.stdout, self.out),
                                          (self.proc.stderr, self.err))]
        for t in self._readers:
            t.start()

    def _read(self, stream, lines):
        for raw in stream:
            with self._cond:
                lines.append(raw.decode("utf-8", errors="replace").rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_until(self, pred, timeout, what):
        """Waits until pred() (called under the lock) holds; fails with the process's output."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                v = pred()
                if v:
                    return v
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("timed out after %s s waiting for %s\n%s"
                                         % (timeout, what, self.describe()))
                self._cond.wait(min(left, 0.5))

    def stderr_lines(self, prefix):
        with self._cond:
            return [line for line in self.err if line.startswith(prefix)]

    def wait_stderr(self, prefix, count=1, timeout=60):
        """The first `count` stderr lines starting with `prefix`."""
        def found():
            hits = [line for line in self.err if line.startswith(prefix)]
            return hits[:count] if len(hits) >= count else None
        return self.wait_until(found, timeout, "%d x %r on stderr" % (count, prefix))

    def wait_exit(self, timeout):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("%s still running after %s s\n%s"
                                 % (self.argv[0], timeout, self.describe()))
        for t in self._readers:
            t.join(10)
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def describe(self):
        return "argv: %s\nrc: %s\nstderr:\n%s\nstdout (last 20):\n%s" % (
            " ".join(self.argv), self.proc.poll(), "\n".join(self.err[-40:]),
            "\n".join(self.out[-20:]))


class Listener(_Process):
    """pulse-listen with --uri and `args`; stdout lines parsed as JSON (`messages`)."""

    def __init__(self, uri, args):
        super().__init__([listen_binary(), "--uri", uri] + list(args))

    def wait_listening(self, timeout=60):
        return self.wait_stderr("pulse-listen: listening on ", timeout=timeout)[0]

    @property
    def messages(self):
        with self._cond:
            return [json.loads(line) for line in self.out]

    def payload_numbers(self):
        """The `n` of every enveloped message printed so far (duplicates kept)."""
        return [m["body"]["payload"]["n"] for m in self.messages]

    def wait_numbers(self, numbers, timeout=60):
        want = set(numbers)
        self.wait_until(lambda: want <= {json.loads(line)["body"]["payload"]["n"]
                                         for line in self.out},
                        timeout, "%d messages (%s...)" % (len(want), sorted(want)[:5]))

    def stop(self, timeout=20):
        """SIGTERM: pulse-listen exits 0."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait_exit(timeout)


class Publisher(_Process):
    """pulse-publish reading its lines from a pipe: write() them as the test goes, then
    finish()."""

    def __init__(self, uri, exchange, routing_key, args=()):
        super().__init__([publish_binary(), "--uri", uri, "--exchange", exchange,
                          "--routing-key", routing_key] + list(args), stdin=subprocess.PIPE)

    def write(self, lines):
        """Ignores a closed pipe: pulse-publish may exit before reading (a usage error), which
        its exit status tells."""
        try:
            for line in lines:
                self.proc.stdin.write((line + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass

    def close_input(self):
        """EOF on stdin: pulse-publish waits for what is in flight, then exits."""
        if not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass

    def finish(self, timeout=90):
        """Closes stdin and waits for the exit: (rc, (published, confirmed, failed))."""
        self.close_input()
        rc = self.wait_exit(timeout)
        return rc, summary(self.err, self.describe())


def summary(err_lines, context=""):
    """(published, confirmed, failed) from pulse-publish's last stderr line."""
    assert err_lines, "pulse-publish printed nothing on stderr\n" + context
    m = SUMMARY.match(err_lines[-1])
    assert m, "pulse-publish's last stderr line is not its summary\n" + context
    return tuple(int(x) for x in m.groups())


def numbered(numbers):
    """JSON lines {"n": i}: the payloads the recovery tests count."""
    return [json.dumps({"n": n}) for n in numbers]


def publish(uri, exchange, routing_key, lines, args=(), timeout=90):
    """Runs pulse-publish over `lines`: (rc, (published, confirmed, failed), process)."""
    p = Publisher(uri, exchange, routing_key, args)
    p.write(lines)
    rc, counts = p.finish(timeout)
    return rc, counts, p
