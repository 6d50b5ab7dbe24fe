"""The Pulse tools in the soak: pulse-publish fed one JSON line per id through a pipe, and
pulse-listen on a durable queue, both reconnecting by themselves (pulse::Publisher and
pulse::Consumer recovery): the soak only reads what they print."""
import json
import re
import subprocess
import threading
import time

FAILED_LINE = re.compile(r"^pulse-publish: line (\d+): (.*)$")


class PulsePublish(threading.Thread):
    """Line N is {"id": N}. pulse-publish confirms every line (republishing the unconfirmed ones
    after a reconnect) and names each line it gives up on; the rest are confirmed once it exits
    0 or prints its summary."""

    def __init__(self, binary, broker, stream, exchange, rate, log):
        super().__init__(name="pulse-publish", daemon=True)
        self.stream = stream
        self.rate = rate
        self.log = log
        self.stop_event = threading.Event()
        self.failed = {}
        self.more_failures = False
        self.summary = None
        self.reconnects = 0
        self.error = None
        self.lines = 0
        self.proc = subprocess.Popen(
            [binary, "--exchange", exchange, "--routing-key", "soak.tool",
             "--deadline", "600000",
             "--uri", "amqp://guest:guest@127.0.0.1:%d/?heartbeat=10" % broker.port],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.stderr_thread = threading.Thread(target=self.read_stderr, daemon=True)
        self.stderr_thread.start()

    def read_stderr(self):
        for raw in self.proc.stderr:
            line = raw.decode(errors="replace").rstrip("\n")
            m = FAILED_LINE.match(line)
            if m:
                self.failed[int(m.group(1))] = m.group(2)
            elif "more failures" in line:
                self.more_failures = True
            elif "connection lost" in line:
                self.reconnects += 1
            elif re.search(r"\d+ published, \d+ confirmed", line):
                self.summary = line

    def stop(self):
        self.stop_event.set()

    def run(self):
        start = time.monotonic()
        try:
            while not self.stop_event.is_set():
                self.lines += 1
                self.stream.sent(self.lines)
                self.proc.stdin.write(b'{"id": %d}\n' % self.lines)
                self.proc.stdin.flush()
                ahead = self.lines / self.rate - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(ahead)
        except (BrokenPipeError, OSError) as e:
            self.error = "pulse-publish stopped reading its input: %r" % e

    def finish(self, timeout):
        """Closes its input and waits for its last confirms; returns its exit status."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            self.error = "pulse-publish did not finish within %d s of its input's end" % timeout
        self.stderr_thread.join(5)
        if not self.more_failures:
            for n in range(1, self.lines + 1):
                if n not in self.failed:
                    self.stream.confirm(n)
        else:
            self.error = "pulse-publish failed more than 20 lines: its outcomes are unknown"
        return rc


class PulseListen(threading.Thread):
    """pulse-listen --durable --applabel soak: every line it prints is a received id."""

    def __init__(self, binary, broker, stream, exchange):
        super().__init__(name="pulse-listen", daemon=True)
        self.stream = stream
        self.listening = threading.Event()
        self.reconnects = 0
        self.error = None
        self.proc = subprocess.Popen(
            [binary, "--exchange", exchange, "--applabel", "soak", "--durable",
             "--uri", "amqp://guest:guest@127.0.0.1:%d/?heartbeat=10" % broker.port],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        threading.Thread(target=self.read_stderr, daemon=True).start()

    def read_stderr(self):
        for raw in self.proc.stderr:
            line = raw.decode(errors="replace")
            if "listening on" in line:
                self.listening.set()
            elif "connection lost" in line:
                self.reconnects += 1

    def run(self):
        for raw in self.proc.stdout:
            try:
                msg = json.loads(raw)
                self.stream.receive(msg["body"]["payload"]["id"], msg.get("redelivered", False))
            except (ValueError, KeyError, TypeError) as e:
                self.error = "pulse-listen printed a line the soak cannot read: %r (%r)" % (raw, e)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.error = "pulse-listen did not stop within 10 s of SIGTERM"
        self.join(5)
        return self.proc.returncode
