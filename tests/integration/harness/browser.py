"""Browser tests' plumbing: Debian's chromium driven by playwright-core (npm, pinned in
browser/package-lock.json) through the node scripts in browser/, run step by step."""
import json
import os
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BROWSER_DIR = os.path.join(HERE, "browser")
REPO = os.path.dirname(os.path.dirname(HERE))
ARTIFACTS = os.environ.get("PULSE_TEST_ARTIFACTS", os.path.join(REPO, "build", "test-artifacts"))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def require_browser():
    # scripts/deps.sh test installs chromium, node and npm: a missing one is a broken setup.
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            pytest.fail("%s is missing: run scripts/deps.sh test" % tool)
    if not os.path.exists(CHROMIUM):
        pytest.fail("chromium is missing: run scripts/deps.sh test")
    if not os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")):
        r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BROWSER_DIR,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, "npm ci failed:\n%s\n%s" % (r.stdout, r.stderr)


class Driver:
    """A browser/ script run step by step: it prints one JSON line per step and reads a line
    from stdin where it waits for the test."""

    def __init__(self, env, script="inspector_drive.js"):
        self.p = subprocess.Popen(["node", script], cwd=BROWSER_DIR, env=env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)

    def step(self, name):
        line = self.p.stdout.readline()
        assert line, "the browser script ended: %s" % self.p.stderr.read()
        out = json.loads(line)
        assert out["step"] == name, out
        return out

    def go(self):
        self.p.stdin.write("go\n")
        self.p.stdin.flush()

    def close(self):
        # A failed step leaves the script waiting on stdin: end it rather than hide the
        # failure behind a timeout.
        try:
            self.p.stdin.close()
            self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        finally:
            if self.p.poll() is None:
                self.p.kill()
                self.p.wait()
