"""Runs node/stompjs.test.js (@stomp/stompjs on a `ws` WebSocket, with amqplib cross-checks)
under node's test runner against three Web-STOMP endpoints with the same assertions:

- pulsed's /ws on its management HTTP listener (pulsed only: RabbitMQ has no /ws there),
- pulsed's own Web-STOMP listener (--web-stomp-listen),
- a private RabbitMQ 3.10 node's rabbitmq_web_stomp listener (ws://127.0.0.1:<port>/ws).

The user is alice on pulse-test (a non-default vhost with real credentials). node_modules comes
from the committed package-lock.json (harness/node_deps.py).

With the default web_stomp.ws_frame = text both brokers send every frame as a text WebSocket
message, so a body that is not UTF-8 cannot reach a browser (its WebSocket fails the connection);
test_stompjs_binary_frames runs the one test that needs web_stomp.ws_frame = binary against a
pulsed and a RabbitMQ node configured so."""
import os
import shutil
import subprocess

import pytest

from harness import node_deps
from harness.broker import RabbitBroker, target_name
from harness.pulse_targets import PulseTarget
from harness.web_stomp import ws_url

NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")

# Every test in stompjs.test.js passes on every endpoint: none is skipped anywhere.
TESTS = 12


@pytest.fixture(scope="module")
def node_modules():
    # scripts/deps.sh test installs node and npm: a missing one is a broken setup, not a skip.
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node/npm are missing: run scripts/deps.sh test")
    node_deps.ensure(NODE_DIR)
    return os.path.join(NODE_DIR, "node_modules")


def run_stompjs(target, port, pattern=None, **extra):
    env = dict(os.environ,
               PULSE_WS_URL=ws_url(port),
               PULSE_AMQP_URL=target.uri(),
               PULSE_STOMP_LOGIN=target.user,
               PULSE_STOMP_PASSCODE=target.password,
               PULSE_STOMP_HOST=target.vhost,
               PULSE_BROKER=target.name, **extra)
    cmd = ["node", "--test"]
    if pattern:
        cmd.append("--test-name-pattern=%s" % pattern)
    r = subprocess.run(cmd + ["stompjs.test.js"], cwd=NODE_DIR, env=env,
                       capture_output=True, text=True, timeout=240)
    return r.returncode, r.stdout + r.stderr


def rabbit_with_web_stomp(registry, key, config=None):
    b = registry.get(key)
    if b is None:
        b = RabbitBroker(config=config, plugins=["rabbitmq_stomp", "rabbitmq_web_stomp"]).start()
        registry[key] = b
    return PulseTarget("rabbitmq", b)


@pytest.fixture
def web_stomp_target(pulse_target, _broker_registry):
    """pulse_target, except in a PULSE_TEST_TARGET=rabbitmq run: there its RabbitMQ is the
    session node, which has no STOMP plugins, so a private node with rabbitmq_web_stomp."""
    if pulse_target.web_stomp_port is not None:
        return pulse_target
    return rabbit_with_web_stomp(_broker_registry, ("stompjs", "rabbitmq"))


@pytest.mark.parametrize("listener", ["http", "web_stomp"])
def test_stompjs(web_stomp_target, listener, node_modules):
    target = web_stomp_target
    if listener == "http" and target.name != "pulsed":
        pytest.skip("RabbitMQ serves Web-STOMP on its own listener only, not on the HTTP API's")
    port = target.http_port if listener == "http" else target.web_stomp_port
    rc, out = run_stompjs(target, port)
    assert rc == 0, out
    assert "# fail 0" in out, out
    assert "# skipped 0" in out, out
    assert "# pass %d" % TESTS in out, out


BINARY = {"web_stomp.ws_frame": "binary"}


@pytest.fixture(scope="session", params=["pulsed", "rabbitmq"])
def binary_frames_target(request, _broker_registry):
    """A broker whose Web-STOMP sends frames as binary WebSocket messages."""
    if request.param == "pulsed":
        if target_name() != "pulsed":
            pytest.skip("pulsed is tested in the default (pulsed) run")
        return PulseTarget("pulsed", request.getfixturevalue("broker_with")(BINARY))
    return rabbit_with_web_stomp(_broker_registry, ("stompjs", "rabbitmq", "binary"), BINARY)


@pytest.mark.parametrize("listener", ["http", "web_stomp"])
def test_stompjs_binary_frames(binary_frames_target, listener, node_modules):
    target = binary_frames_target
    if listener == "http" and target.name != "pulsed":
        pytest.skip("RabbitMQ serves Web-STOMP on its own listener only, not on the HTTP API's")
    port = target.http_port if listener == "http" else target.web_stomp_port
    rc, out = run_stompjs(target, port, pattern="ws_frame = binary", PULSE_WS_BINARY_FRAMES="1")
    assert rc == 0, out
    assert "# pass 1\n" in out and "# fail 0" in out, out
