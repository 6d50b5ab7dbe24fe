"""What the soak does to pulsed while its clients run: kill -9 and restart, a clean restart
(SIGTERM), connections closed through the management API, and a full disk (a ballast file that
takes every free byte of pulsed's small filesystem for a while)."""
import base64
import json
import os
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from harness.procfs import rss_bytes


def api(broker, method, path, timeout=10):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (broker.http_port, path), method=method)
    req.add_header("Authorization", "Basic " + base64.b64encode(b"guest:guest").decode())
    with urllib.request.urlopen(req, timeout=timeout) as r:
        data = r.read()
    return json.loads(data) if data else None


def fd_count(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None


class Chaos(threading.Thread):
    """Random events, one every `gap` seconds (uniform in gap); restarts and disk fills stop at
    `calm_after` (monotonic time) so the last process serves a long stretch of load."""

    WEIGHTS = {"kill9": 3, "sigterm": 1, "close": 4, "diskfull": 1}

    def __init__(self, broker, fs_dir, seed, log, gap=(20, 60), calm_after=None, disk=True,
                 first=()):
        super().__init__(name="chaos", daemon=True)
        self.broker = broker
        self.fs_dir = fs_dir
        self.rng = random.Random(seed)
        self.log = log
        self.gap = gap
        self.calm_after = calm_after
        self.disk = disk
        self.first = [k for k in first if disk or k != "diskfull"]  # run in this order first
        self.stop_event = threading.Event()
        self.events = []  # (monotonic time, kind, detail)
        self.crash_times = []  # when pulsed was killed (duplicates across them are explained)
        self.disk_windows = []  # (start, end) of full-disk spells
        self.restart_windows = []  # (start, end): from the stop to the restarted broker's ready
        self.peak_rss = 0
        self.lock = threading.Lock()  # held while pulsed is being restarted
        self.error = None

    def note(self, kind, detail=""):
        self.events.append((time.monotonic(), kind, detail))
        self.log("chaos: %s %s" % (kind, detail))

    def stop(self):
        self.stop_event.set()

    def run(self):
        try:
            while not self.stop_event.wait(self.rng.uniform(*self.gap)):
                kinds = dict(self.WEIGHTS)
                if self.calm_after is not None and time.monotonic() >= self.calm_after:
                    kinds = {"close": kinds["close"]}
                if not self.disk:
                    kinds.pop("diskfull", None)
                kind = self.first.pop(0) if self.first else \
                    self.rng.choices(list(kinds), list(kinds.values()))[0]
                getattr(self, "do_" + kind)()
        except Exception as e:  # noqa: shows in the report
            self.error = "chaos: %r" % e
            self.log(self.error)

    def sample_rss(self):
        r = rss_bytes(self.broker.pid) or 0
        self.peak_rss = max(self.peak_rss, r)

    def restart(self, kill):
        with self.lock:
            self.sample_rss()
            t0 = time.monotonic()
            if kill:
                self.crash_times.append(t0)
            self.broker.stop_process(kill=kill)
            if kill:
                self.stop_event.wait(self.rng.uniform(0.2, 3.0))  # clients retry meanwhile
            self.broker.start(timeout=120, definitions=False)
            self.restart_windows.append((t0, time.monotonic()))
            return time.monotonic() - t0

    def do_kill9(self):
        took = self.restart(kill=True)
        self.note("kill9", "restarted, ready after %.1f s" % took)

    def do_sigterm(self):
        took = self.restart(kill=False)
        self.note("sigterm", "restarted, ready after %.1f s" % took)

    def do_close(self):
        conns = api(self.broker, "GET", "/api/connections") or []
        if not conns:
            return
        victims = self.rng.sample(conns, min(len(conns), self.rng.randint(1, 3)))
        for c in victims:
            name = urllib.parse.quote(c["name"], safe="")
            try:
                api(self.broker, "DELETE", "/api/connections/" + name)
            except urllib.error.HTTPError as e:
                if e.code != 404:  # gone meanwhile
                    raise
        self.note("close", ", ".join(c.get("client_properties", {}).get("connection_name")
                                     or c["name"] for c in victims))

    def do_diskfull(self, hold=None):
        hold = hold or self.rng.uniform(8, 20)
        path = os.path.join(self.fs_dir, "ballast")
        t0 = time.monotonic()
        written = 0
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            # Down to the very last byte: smaller writes once the big ones no longer fit.
            for size in (1 << 20, 1 << 16, 1 << 12, 1):
                chunk = b"\0" * size
                while True:
                    try:
                        n = os.write(fd, chunk)
                    except OSError:
                        break
                    written += n
                    if n < size:
                        break
        finally:
            os.close(fd)
        self.stop_event.wait(hold)
        os.unlink(path)
        self.disk_windows.append((t0, time.monotonic()))
        self.note("diskfull", "%d MiB ballast held %.0f s" % (written >> 20, hold))
