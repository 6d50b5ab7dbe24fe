"""Runs the amqplib (Node.js) tests in node/ with node's built-in test runner.

`npm ci` installs node_modules from the committed package-lock.json when any
package it lists is missing (harness/node_deps.py). The broker URL is passed as
PULSE_AMQP_URL; a second broker started with a tiny memory high watermark (so it
is permanently in a memory alarm) is passed as PULSE_AMQP_BLOCKED_URL for the
connection.blocked test. Only amqplib.test.js runs here: node/ holds the
stompjs tests too (test_node_stompjs.py).
"""
import os
import shutil
import subprocess

import pytest

from harness import node_deps

NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")

# Every publishing connection gets connection.blocked ("low on memory").
ALARM = {"vm_memory_high_watermark.absolute": "1MB"}


@pytest.fixture(autouse=True)
def _installed():
    # scripts/deps.sh test installs node and npm: a missing one is a broken setup, not a skip.
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node/npm are missing: run scripts/deps.sh test")


@pytest.fixture(scope="module")
def node_modules():
    node_deps.ensure(NODE_DIR)
    return os.path.join(NODE_DIR, "node_modules")


def run_node(env_extra, pattern=None):
    env = dict(os.environ, **env_extra)
    cmd = ["node", "--test"]
    if pattern:
        cmd.append("--test-name-pattern=%s" % pattern)
    cmd.append("amqplib.test.js")
    r = subprocess.run(cmd, cwd=NODE_DIR, env=env, capture_output=True, text=True, timeout=120)
    out = r.stdout + r.stderr
    return r.returncode, out


def test_amqplib(broker, node_modules):
    rc, out = run_node({"PULSE_AMQP_URL": broker.url()})
    assert rc == 0, out
    assert "# fail 0" in out, out
    assert "# pass 8" in out, out  # the blocked test is skipped without its URL


def test_amqplib_connection_blocked(broker, broker_with, node_modules):
    alarmed = broker_with(ALARM)
    rc, out = run_node({"PULSE_AMQP_URL": broker.url(), "PULSE_AMQP_BLOCKED_URL": alarmed.url()},
                       pattern="connection.blocked")
    assert rc == 0, out
    assert "# pass 1" in out and "# fail 0" in out, out
