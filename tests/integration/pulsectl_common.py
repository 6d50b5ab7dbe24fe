"""Fixtures of the test_pulsectl_* files: pulsectl run as a real process against the broker's
HTTP API (Ctl), the API itself for checking what it did (HttpApi).

The tests cover every command, table/--json/--columns output, error texts and the documented
exit statuses (0 ok, 1 API error, 2 usage, 3 not found, 69 unreachable, 77 not authorised).
They run unchanged against RabbitMQ (PULSE_TEST_TARGET=rabbitmq): pulsectl only speaks the
management API."""
import json
import os
import re
import subprocess

import pytest

from harness.broker import HOST, built_tool
from harness.http_api import q

V = q("/")


@pytest.fixture(scope="module")
def binary():
    return built_tool("PULSECTL_BIN", "pulsectl")


class Ctl:
    def __init__(self, binary, broker):
        self.binary = binary
        self.url = "http://%s:%d" % (HOST, broker.http_port)

    def run(self, *args, expect=0, user="guest", password="guest", stdin=None, env=None,
            url=None):
        cmd = [self.binary, "--url", url or self.url, "-u", user, "-p", password]
        cmd += [str(a) for a in args]
        full_env = dict(os.environ)
        for k in ("PULSECTL_URL", "PULSECTL_USER", "PULSECTL_PASSWORD"):
            full_env.pop(k, None)
        full_env.update(env or {})
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, input=stdin,
                           env=full_env)
        if expect is not None:
            assert p.returncode == expect, "%s -> %d (expected %d)\nstdout:\n%s\nstderr:\n%s" % (
                " ".join(cmd), p.returncode, expect, p.stdout, p.stderr)
        return p

    def json(self, *args, **kw):
        return json.loads(self.run("--json", *args, **kw).stdout)

    def error(self, expect, *args, **kw):
        """stderr (one line, prefixed) of a command that must fail with exit status `expect`."""
        p = self.run(*args, expect=expect, **kw)
        assert p.stdout == "", p.stdout
        return p.stderr.strip()


@pytest.fixture
def ctl(binary, broker):
    return Ctl(binary, broker)


def table(text):
    """Header and rows of an aligned table, cells split on runs of 2+ spaces."""
    lines = [line for line in text.splitlines()]
    return [re.split(r"\s{2,}", line.strip()) for line in lines]
