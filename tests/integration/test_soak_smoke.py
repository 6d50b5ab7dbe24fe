"""bench/soak in miniature: one of each chaos event (kill -9, a forced close, a full disk, a
clean restart) under mixed AMQP, STOMP and Pulse-tool load, with the soak's end checks (nothing
confirmed lost, no unexplained duplicate, queues drained, fds and RSS back, no unexplained log
line). Keeps the soak harness working; the 30-minute run is bench/soak/run.sh's."""
import os
import subprocess
import sys

import pytest

from harness.broker import REPO, pulsed_binary, target_name

pytestmark = pytest.mark.skipif(target_name() != "pulsed", reason="the soak drives pulsed")


def test_a_minute_of_chaos_loses_nothing(tmp_path):
    tools = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(pulsed_binary()))),
                         "tools")
    out = tmp_path / "soak.md"
    r = subprocess.run(
        [sys.executable, os.path.join(REPO, "bench", "soak", "soak.py"), "--minutes", "1.2",
         "--gap", "5,8", "--first", "kill9,close,diskfull,sigterm", "--rate", "60",
         "--deep-mb", "8", "--fs-mb", "128", "--pulsed", pulsed_binary(), "--tools", tools,
         "--out", str(out)],
        capture_output=True, text=True, timeout=600)
    report = out.read_text() if out.exists() else ""
    assert r.returncode == 0 and "RESULT: PASS" in report, \
        "soak failed (rc %s):\n%s\n--- output ---\n%s\n%s" % (
            r.returncode, report, r.stdout[-6000:], r.stderr[-4000:])
    # Every event ran (the full disk needs root; without it the soak says it left it out).
    for kind in ("kill9", "close", "sigterm"):
        assert kind in report
