"""pulsed's log after the soak: every line at warning level or above must be explained by a
chaos event near it (a full disk, a kill, a restart, a forced close); anything else fails the
run."""
import datetime
import re
import time

LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+[+-]\d\d:?\d\d) "
                  r"\[(warning|error|critical)\] (.*)$")

# (name, pattern, event kinds that explain it, seconds before/after the event's window)
EXPLAINED = [
    ("disk alarm", r"^disk resource limit alarm (set|cleared)", ("diskfull",), (5, 30)),
    ("store write failed (disk full)",
     r"^message store (flush|sync) failed: .*(No space left on device|unusable after an I/O)",
     ("diskfull",), (5, 30)),
    ("store write failed (disk full)", r"^message store .*: .* failed: .*No space left on device",
     ("diskfull",), (5, 30)),
    ("unclean stop recovered", r"^the last run did not stop cleanly", ("kill9",), (0, 5)),
    ("forced close", r"^connection \d+: closing with 320: CONNECTION_FORCED",
     ("close", "sigterm"), (2, 10)),
    ("STOMP forced close", r"^STOMP connection \d+: ERROR sent: .*(Connection forced|closed)",
     ("close", "sigterm"), (2, 10)),
]
_COMPILED = [(n, re.compile(p), k, w) for n, p, k, w in EXPLAINED]


def _epoch(stamp):
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def windows(chaos):
    """Event kind -> [(start, end)] in wall-clock seconds."""
    offset = time.time() - time.monotonic()
    out = {"diskfull": [(s + offset, e + offset) for s, e in chaos.disk_windows]}
    restarts = iter(chaos.restart_windows)
    for t, kind, _detail in chaos.events:
        if kind in ("kill9", "sigterm"):
            s, e = next(restarts)
            out.setdefault(kind, []).append((s + offset, e + offset))
        elif kind == "close":
            out.setdefault(kind, []).append((t + offset - 1, t + offset))
    return out


def scan_log(path, chaos):
    """(unexplained lines, {explanation: count})."""
    wins = windows(chaos)
    unexplained, explained = [], {}
    with open(path, errors="replace") as f:
        for line in f:
            m = LINE.match(line.rstrip("\n"))
            if not m:
                continue
            when, text = _epoch(m.group(1)), m.group(3)
            for name, pat, kinds, (before, after) in _COMPILED:
                if not pat.search(text):
                    continue
                if any(s - before <= when <= e + after
                       for k in kinds for s, e in wins.get(k, ())):
                    explained[name] = explained.get(name, 0) + 1
                    break
            else:
                unexplained.append(line.rstrip("\n"))
    return unexplained, explained
