"""Policies survive restarts of pulsed (SIGTERM and kill -9) and still apply, to recovered
durable queues and to new ones, without the definitions file at the next boot. A definitions
file with an invalid policy stops pulsed with a message naming it."""
import json
import os

import pika
import pytest

from harness.broker import PulsedBroker, run_pulsed_until_exit
from harness.defs import merged
from harness.util import unique

pytestmark = pytest.mark.pulsed_only

DEFS = {
    "policies": [
        {"vhost": "/", "name": "cap", "pattern": r"^cap\.", "apply-to": "queues",
         "definition": {"max-length": 2, "overflow": "reject-publish"}, "priority": 0},
        {"vhost": "pulse-test", "name": "cap", "pattern": r".*", "apply-to": "all",
         "definition": {"max-length": 1, "overflow": "reject-publish"}, "priority": 0},
    ],
}


@pytest.fixture
def node(tmp_path):
    path = tmp_path / "defs.json"
    path.write_text(json.dumps(merged(DEFS)))
    b = PulsedBroker(definitions_path=str(path))
    b.start()
    yield b
    b.stop(check=False)


def accepted(b, queue, n, vhost="/", durable=True):
    """Declares `queue`, publishes n messages with confirms; returns how many were acked."""
    c = b.connect(vhost=vhost)
    try:
        ch = c.channel()
        ch.queue_declare(queue, durable=durable)
        ch.queue_purge(queue)
        ch.confirm_delivery()
        ok = 0
        for i in range(n):
            try:
                ch.basic_publish("", queue, b"m%d" % i)
                ok += 1
            except pika.exceptions.NackError:
                pass
        return ok
    finally:
        c.close()


@pytest.mark.parametrize("kill", [False, True], ids=["sigterm", "kill9"])
def test_policies_survive_restart(node, kill):
    q = unique("cap")
    assert accepted(node, q, 4) == 2
    assert accepted(node, "other-%s" % q, 4) == 4
    node.restart(kill=kill, definitions=False)
    assert "2 policies" in open(node.log_path).read()
    assert accepted(node, q, 4) == 2  # the recovered durable queue
    assert accepted(node, unique("cap"), 4, durable=False) == 2  # a new one
    assert accepted(node, unique("x"), 3, vhost="pulse-test") == 1


def _write(tmp_path, policies):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(merged({"policies": policies})))
    return str(path)


def test_invalid_policy_stops_boot(tmp_path):
    data = str(tmp_path / "data")
    os.makedirs(data)
    bad = _write(tmp_path, [{"vhost": "/", "name": "oops", "pattern": "^a",
                             "definition": {"max-length": "ten"}, "priority": 0}])
    rc, out = run_pulsed_until_exit(data, extra_args=["--definitions", bad])
    assert rc == 2, out
    assert "policy 'oops' in vhost '/'" in out, out
    assert '<<"ten">> is not a valid maximum length' in out, out
