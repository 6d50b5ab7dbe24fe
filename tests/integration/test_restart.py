"""Definitions survive a restart of pulsed on the same data directory (SIGTERM and kill -9);
transient and exclusive things do not. Bad data directories are refused, never reset."""
import os

import pika
import pytest

from harness.broker import PulsedBroker, run_pulsed_until_exit
from harness.http_api import HttpApi, q
from harness.util import unique

# Restarting a node on the same data directory is driven through the pulsed harness.
pytestmark = pytest.mark.pulsed_only


@pytest.fixture
def node():
    b = PulsedBroker()
    b.start()
    yield b
    b.stop(check=False)


def exists(b, kind, name):
    c = b.connect()
    try:
        ch = c.channel()
        if kind == "queue":
            ch.queue_declare(name, passive=True)
        else:
            ch.exchange_declare(name, passive=True)
        return True
    except pika.exceptions.ChannelClosedByBroker as e:
        assert e.reply_code == 404, e
        return False
    finally:
        if c.is_open:
            c.close()


def routed_to(b, exchange, key, queue):
    """Publishes one message and reports whether it reached `queue` (then drains it)."""
    c = b.connect()
    try:
        ch = c.channel()
        ch.queue_purge(queue)
        ch.basic_publish(exchange, key, b"x")
        ch.confirm_delivery()  # a round trip: the publish is routed once this returns
        return ch.queue_declare(queue, passive=True).method.message_count == 1
    finally:
        c.close()


def declare_world(b, tag):
    c = b.connect()
    ch = c.channel()
    n = {k: "%s-%s" % (k, tag) for k in
         ("dx", "dx2", "tx", "dq", "tq", "adq", "eq")}
    ch.exchange_declare(n["dx"], "topic", durable=True)
    ch.exchange_declare(n["dx2"], "direct", durable=True)
    ch.exchange_declare(n["tx"], "fanout", durable=False)
    ch.queue_declare(n["dq"], durable=True, arguments={"x-max-length": 10, "x-message-ttl": 60000})
    ch.queue_declare(n["tq"], durable=False)
    ch.queue_declare(n["adq"], durable=True, auto_delete=True)
    ch.queue_bind(n["dq"], n["dx"], "a.*")
    ch.queue_bind(n["tq"], n["dx"], "a.*")
    ch.queue_bind(n["dq"], n["tx"], "")
    ch.exchange_bind(n["dx2"], n["dx"], "b.#")
    ch.queue_bind(n["dq"], n["dx2"], "b.c")
    ch.queue_bind(n["dq"], "amq.direct", n["dq"])
    # The exclusive queue lives as long as this connection: kept open across the restart.
    ch.queue_declare(n["eq"], durable=True, exclusive=True)
    ch.queue_bind(n["eq"], n["dx"], "#")
    return n, c


@pytest.mark.parametrize("kill", [False, True], ids=["sigterm", "kill9"])
def test_definitions_survive_restart(node, kill):
    n, c = declare_world(node, unique("w"))
    node.restart(kill=kill)
    if c.is_open:
        try:
            c.close()
        except Exception:  # noqa: the server is gone
            pass
    assert exists(node, "exchange", n["dx"])
    assert exists(node, "exchange", n["dx2"])
    assert exists(node, "queue", n["dq"])
    assert exists(node, "queue", n["adq"])  # durable auto-delete queues come back
    assert not exists(node, "exchange", n["tx"])
    assert not exists(node, "queue", n["tq"])
    assert not exists(node, "queue", n["eq"])
    assert routed_to(node, n["dx"], "a.b", n["dq"])
    assert routed_to(node, n["dx"], "b.c", n["dq"])  # dx -> dx2 -> dq
    assert routed_to(node, "amq.direct", n["dq"], n["dq"])
    # Arguments came back exactly as declared (nothing added for the queue type)...
    api = HttpApi(node)
    assert api.get("/api/queues/%2F/" + q(n["dq"])).json["arguments"] == \
        {"x-max-length": 10, "x-message-ttl": 60000}
    assert api.get("/api/queues/%2F/" + q(n["adq"])).json["arguments"] == {}
    # ...so redeclaring with them is equivalent, without them is not.
    c = node.connect()
    ch = c.channel()
    ch.queue_declare(n["dq"], durable=True, arguments={"x-max-length": 10, "x-message-ttl": 60000})
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        ch.queue_declare(n["dq"], durable=True)
    assert e.value.reply_code == 406
    c.close()


def test_deletions_survive_restart(node):
    n, c = declare_world(node, unique("d"))
    ch = c.channel()
    ch.queue_unbind(n["dq"], n["dx"], "a.*")
    ch.exchange_delete(n["dx2"])
    ch.queue_delete(n["adq"])
    c.close()
    node.restart()
    assert not exists(node, "exchange", n["dx2"])
    assert not exists(node, "queue", n["adq"])
    assert not routed_to(node, n["dx"], "a.b", n["dq"])


def test_users_and_vhosts_survive_without_definitions_flag(node):
    # definitions.json (imported at the first boot) defines alice, bob and vhost pulse-test
    # (see README.md); the next boot goes without it.
    node.restart(definitions=False)
    c = node.connect("alice", "alice-secret1", "pulse-test")
    c.close()
    c = node.connect("alice", "alice-secret1", "/")
    ch = c.channel()
    ch.queue_declare("alice.q-%s" % unique("u"), durable=False)  # configure ^alice\.
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        ch.queue_declare("not-alice-%s" % unique("u"))
    assert e.value.reply_code == 403
    c.close()
    with pytest.raises(pika.exceptions.ProbableAccessDeniedError):
        node.connect("bob", "bob-secret2", "pulse-test")  # bob has no access to pulse-test
    with pytest.raises(pika.exceptions.ProbableAuthenticationError):
        node.connect("alice", "wrong-password")
    assert "recovered definitions:" in open(node.log_path).read()


def _refused(data_dir):
    rc, out = run_pulsed_until_exit(data_dir)
    assert rc == 2, out
    assert "refusing to start" in out or "definitions" in out, out
    return out


def test_wrong_layout_version_is_refused(node):
    node.stop_process()
    with open(os.path.join(node.data_dir, "VERSION"), "w") as f:
        f.write("pulse-data-layout 99\n")
    out = _refused(node.data_dir)
    assert "layout version 99" in out
    # Nothing was reset.
    assert open(os.path.join(node.data_dir, "VERSION")).read() == "pulse-data-layout 99\n"


def test_corrupt_definitions_db_is_refused(node):
    node.stop_process()
    path = os.path.join(node.data_dir, "definitions.db")
    for suffix in ("-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.seek(0)
        f.write(b"this is not an sqlite database" + b"\xff" * 100)
    _refused(node.data_dir)
    assert os.path.getsize(path) == size  # left as it was for inspection
