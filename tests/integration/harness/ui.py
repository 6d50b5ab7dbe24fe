"""The admin UI in Debian's chromium: `Ui` sends browser/ui_drive.js one command at a time
and returns its answer, so a test reads as a user's steps:

    ui.goto(url); ui.fill(label="Username", value="guest"); ui.click(role="button", name="Sign in")

Targets: role+name (exact=True for an exact name), label, text or css, with `within` (another
target) and `nth`. A failed step raises AssertionError with playwright's message and saves a
screenshot named after the test. Console errors are collected: `assert_no_console_errors()`.
"""
import json
import os
import re
import subprocess
import time

from harness.browser import ARTIFACTS, BROWSER_DIR, CHROMIUM, require_browser


class UiError(AssertionError):
    pass


class Ui:
    def __init__(self, artifacts_name):
        require_browser()
        self.artifacts = os.path.join(ARTIFACTS, artifacts_name)
        env = dict(os.environ, CHROMIUM=CHROMIUM, ARTIFACTS=self.artifacts)
        self.p = subprocess.Popen(["node", "ui_drive.js"], cwd=BROWSER_DIR, env=env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.shots = 0

    def call(self, op, **kw):
        kw["op"] = op
        self.p.stdin.write(json.dumps(kw) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise UiError("the browser driver ended: %s" % self.p.stderr.read())
        out = json.loads(line)
        if not out["ok"]:
            if op != "screenshot":
                try:
                    self.call("screenshot", name="failed-%s" % op)
                except UiError:
                    pass
            raise UiError("%s %s: %s" % (op, {k: v for k, v in kw.items() if k != "op"},
                                         out["error"]))
        return out["value"]

    # Steps.
    def goto(self, url):
        return self.call("goto", url=url)

    def url(self):
        return self.call("url")

    def click(self, **t):
        return self.call("click", **t)

    def fill(self, value, **t):
        return self.call("fill", value=value, **t)

    def check(self, value=True, **t):
        return self.call("check", value=value, **t)

    def select(self, value, **t):
        return self.call("select", value=value, **t)

    def upload(self, file, **t):
        return self.call("upload", file=file, **t)

    def type(self, value):
        """Types on the keyboard into whatever has the focus."""
        return self.call("type", value=value)

    def focused(self):
        """The focused element: {tag, text, label, inDialog}."""
        return self.call("focused")

    def press(self, key, **t):
        return self.call("press", key=key, **t)

    def text(self, **t):
        return self.call("text", **t)

    def text_with(self, part, timeout=15, **t):
        """The target's text once it contains `part` (a message region may exist, empty or
        with the previous message, before the answer to the last click arrives)."""
        deadline = time.time() + timeout
        while True:
            value = self.text(**t)
            if part in value:
                return value
            if time.time() > deadline:
                raise UiError("timed out waiting for %r in %s (last %r)" % (part, t, value))
            time.sleep(0.1)

    def texts(self, **t):
        return self.call("texts", **t)

    def count(self, **t):
        return self.call("count", **t)

    def attr(self, attr, **t):
        return self.call("attr", attr=attr, **t)

    def visible(self, **t):
        return self.call("visible", **t)

    def wait(self, state="visible", timeout=None, **t):
        kw = dict(t, state=state)
        if timeout:
            kw["timeout"] = int(timeout * 1000)
        return self.call("wait", **kw)

    def rows(self, **t):
        return self.call("rows", **t)

    def eval(self, js):
        return self.call("eval", js=js)

    def wait_until(self, js, timeout=15):
        """Polls the expression `js` in the page until it is truthy and returns its value
        (playwright's waitForFunction compiles it in the page, which the UI's CSP refuses)."""
        deadline = time.time() + timeout
        while True:
            value = self.eval(js)
            if value:
                return value
            if time.time() > deadline:
                raise UiError("timed out waiting for %s (last %r)" % (js, value))
            time.sleep(0.2)

    def screenshot(self, name):
        return self.call("screenshot", name=re.sub(r"[^A-Za-z0-9_.-]", "_", name))

    def download(self, **t):
        return self.call("download", **t)

    def errors(self):
        return self.call("errors")

    def assert_no_console_errors(self):
        errs = self.errors()
        assert not errs, "console errors: %s" % errs

    # The sign-in form every test starts with.
    def sign_in(self, base_url, user, password):
        self.goto(base_url + "/")
        self.fill(label="Username", value=user)
        self.fill(label="Password", value=password)
        self.click(role="button", name="Sign in")
        self.wait(role="button", name="Sign out")

    def close(self):
        try:
            self.p.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self.p.stdin.close()
            self.p.wait(timeout=30)
        except (BrokenPipeError, subprocess.TimeoutExpired, ValueError):
            pass
        finally:
            if self.p.poll() is None:
                self.p.kill()
                self.p.wait()


def ui_fixture(request):
    """pytest fixture body: a Ui named after the test, closed after it; a test that passed
    must also have left no console error."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
    u = Ui("ui-" + name)
    try:
        yield u
        u.assert_no_console_errors()
    finally:
        u.close()
