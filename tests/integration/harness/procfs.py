"""What a broker costs the machine: resident memory of its process, disk used by its data dir."""
import os
import threading
import time


def rss_bytes(pid):
    """VmRSS of process `pid` in bytes, from /proc/<pid>/status (None once the process is gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    value, unit = line.split()[1:3]
                    assert unit == "kB", line
                    return int(value) * 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def disk_usage(path):
    """Bytes allocated on disk under `path` (like `du -s --block-size=1`: st_blocks, hard links
    counted once), so preallocated or sparse files count for what they really hold."""
    seen = set()
    total = 0
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            try:
                st = os.lstat(os.path.join(root, name))
            except FileNotFoundError:  # removed while we walk
                continue
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_blocks * 512
    return total


MiB = 1024 * 1024


class RssSampler:
    """Samples the RSS of `pid` every `interval` seconds on a thread, keeping the peak:

        with RssSampler(broker.pid) as s:
            ...
        s.peak, s.last, s.samples
    """

    def __init__(self, pid, interval=0.05):
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.last = None
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self):
        v = rss_bytes(self.pid)
        if v is not None:
            self.last = v
            self.peak = max(self.peak, v)
            self.samples += 1
        return v

    def __enter__(self):
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        self.sample()
        return False


def wait_stable(fn, settle=1.0, timeout=20.0, interval=0.1):
    """Polls fn() until its value has not changed for `settle` seconds; returns the value."""
    deadline = time.time() + timeout
    last = fn()
    since = time.time()
    while time.time() < deadline:
        time.sleep(interval)
        v = fn()
        if v != last:
            last, since = v, time.time()
        elif time.time() - since >= settle:
            break
    return last
