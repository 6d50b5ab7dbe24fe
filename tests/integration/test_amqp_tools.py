"""The rabbitmq-c command line tools (Debian package amqp-tools) against the broker.

Exit codes seen with RabbitMQ 3.10: 0 on success, 1 on a server error (the
error is printed on stderr as '<method>: server channel error <code>, message:
<text>'), amqp-get exits 2 on an empty queue.
"""
import shutil
import subprocess

import pika
import pytest

from harness.util import wait_for


@pytest.fixture(autouse=True)
def _installed():
    # scripts/deps.sh test installs amqp-tools: a missing one is a broken setup, not a skip.
    if shutil.which("amqp-publish") is None:
        pytest.fail("amqp-tools are missing: run scripts/deps.sh test")


def tool(*args, input=None, timeout=20):
    return subprocess.run(list(args), input=input, capture_output=True, timeout=timeout)


@pytest.fixture
def url(broker):
    return "amqp://guest:guest@%s:%d" % (broker.host, broker.port)


def message_count(broker, q):
    c = broker.connect()
    try:
        return c.channel().queue_declare(q, passive=True).method.message_count
    finally:
        c.close()


def consumer_count(broker, q):
    """Consumer count of q, or None if q does not exist."""
    c = broker.connect()
    try:
        return c.channel().queue_declare(q, passive=True).method.consumer_count
    except pika.exceptions.ChannelClosedByBroker as e:
        assert e.reply_code == 404, e
        return None
    finally:
        c.close()


def test_declare_publish_get_delete(broker, url, uname):
    q = uname("tools.q")
    r = tool("amqp-declare-queue", "-u", url, "-q", q)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().strip() == q
    for body in (b"hello world", b"second message", b"\xffbinary\x01"):
        r = tool("amqp-publish", "-u", url, "-r", q, "-b", body)
        assert r.returncode == 0, r.stderr
    assert message_count(broker, q) == 3
    r = tool("amqp-get", "-u", url, "-q", q)
    assert (r.returncode, r.stdout) == (0, b"hello world"), r
    r = tool("amqp-get", "-u", url, "-q", q)
    assert (r.returncode, r.stdout) == (0, b"second message"), r
    r = tool("amqp-get", "-u", url, "-q", q)
    assert (r.returncode, r.stdout) == (0, b"\xffbinary\x01"), r
    # empty queue: exit code 2, nothing printed
    r = tool("amqp-get", "-u", url, "-q", q)
    assert (r.returncode, r.stdout) == (2, b""), r
    # delete prints the number of messages the queue still had
    tool("amqp-publish", "-u", url, "-r", q, "-b", "left behind")
    r = tool("amqp-delete-queue", "-u", url, "-q", q)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().strip() == "1"
    r = tool("amqp-get", "-u", url, "-q", q)
    assert r.returncode == 1
    assert ("basic.get: server channel error 404, message: NOT_FOUND - no queue '%s' in vhost '/'" % q
            in r.stderr.decode()), r.stderr


def test_server_named_and_durable_queue(broker, url, uname):
    r = tool("amqp-declare-queue", "-u", url, "-q", "")
    assert r.returncode == 0, r.stderr
    name = r.stdout.decode().strip()
    assert name.startswith("amq.gen-"), name
    q = uname("tools.durable")
    r = tool("amqp-declare-queue", "-u", url, "-q", q, "-d")
    assert (r.returncode, r.stdout.decode().strip()) == (0, q), r
    # redeclaring it non-durable is refused with 406
    r = tool("amqp-declare-queue", "-u", url, "-q", q)
    assert r.returncode == 1
    assert ("queue.declare: server channel error 406, message: PRECONDITION_FAILED - inequivalent arg "
            "'durable' for queue '%s' in vhost '/': received 'false' but current is 'true'" % q
            in r.stderr.decode()), r.stderr
    assert tool("amqp-delete-queue", "-u", url, "-q", q).returncode == 0
    assert tool("amqp-delete-queue", "-u", url, "-q", name).returncode == 0


def test_consume_with_count(broker, url, uname):
    q = uname("tools.consume")
    assert tool("amqp-declare-queue", "-u", url, "-q", q).returncode == 0
    for i in range(5):
        assert tool("amqp-publish", "-u", url, "-r", q, "-b", "msg-%d" % i).returncode == 0
    # each message is piped into the command; -c 3 stops after three
    r = tool("amqp-consume", "-u", url, "-q", q, "-c", "3", "--", "sh", "-c", "cat; echo")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines() == ["msg-0", "msg-1", "msg-2"]
    assert message_count(broker, q) == 2  # acked ones are gone, the rest stays
    r = tool("amqp-consume", "-u", url, "-q", q, "-c", "2", "-A", "-p", "1", "--", "sh", "-c", "cat; echo")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines() == ["msg-3", "msg-4"]
    assert message_count(broker, q) == 0
    tool("amqp-delete-queue", "-u", url, "-q", q)


def test_consume_from_exchange_binding(broker, url, uname):
    """amqp-consume -q/-e/-r declares the queue itself (auto-delete), binds it,
    then consumes what is published after."""
    q = uname("tools.bound")
    p = subprocess.Popen(["amqp-consume", "-u", url, "-q", q, "-e", "amq.topic", "-r", "tools.#",
                          "-c", "2", "--", "sh", "-c", "cat; echo"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        wait_for(lambda: consumer_count(broker, q) == 1, timeout=10, msg="amqp-consume to attach")
        assert p.poll() is None, p.communicate()
        assert tool("amqp-publish", "-u", url, "-e", "amq.topic", "-r", "other.key", "-b", "nope").returncode == 0
        assert tool("amqp-publish", "-u", url, "-e", "amq.topic", "-r", "tools.a", "-b", "one").returncode == 0
        assert tool("amqp-publish", "-u", url, "-e", "amq.topic", "-r", "tools.b.c", "-b", "two").returncode == 0
        out, err = p.communicate(timeout=15)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, err
    assert out.decode().splitlines() == ["one", "two"]
    # it was declared auto-delete: gone with its consumer
    wait_for(lambda: consumer_count(broker, q) is None, timeout=5, msg="auto-delete of the queue")


def test_publish_line_buffered_with_properties(broker, uname):
    q = uname("tools.lines")
    c = broker.connect()
    try:
        ch = c.channel()
        ch.queue_declare(q, auto_delete=False)
        url = "amqp://guest:guest@%s:%d" % (broker.host, broker.port)
        r = tool("amqp-publish", "-u", url, "-r", q, "-l", "-p", "-C", "application/json",
                 "-H", "x-pulse: yes", input=b'{"a": 1}\n{"b": 2}\n')
        assert r.returncode == 0, r.stderr
        got = []
        for _ in range(2):
            m, props, body = ch.basic_get(q, auto_ack=True)
            got.append(body)
            assert props.content_type == "application/json"
            assert props.delivery_mode == 2
            assert props.headers == {"x-pulse": b"yes"} or props.headers == {"x-pulse": "yes"}
        # -l keeps each line's newline in the body
        assert got == [b'{"a": 1}\n', b'{"b": 2}\n']
        ch.queue_delete(q)
    finally:
        c.close()


def test_vhost_and_user_in_url(broker, uname):
    q = uname("tools.vh")
    url = broker.url("alice", "alice-secret1", "pulse-test")
    assert tool("amqp-declare-queue", "-u", url, "-q", q).returncode == 0
    assert tool("amqp-publish", "-u", url, "-r", q, "-b", "in pulse-test").returncode == 0
    r = tool("amqp-get", "-u", url, "-q", q)
    assert (r.returncode, r.stdout) == (0, b"in pulse-test"), r
    # not visible in '/'
    r = tool("amqp-get", "-u", "amqp://guest:guest@%s:%d" % (broker.host, broker.port), "-q", q)
    assert r.returncode == 1, r
    assert tool("amqp-delete-queue", "-u", url, "-q", q).returncode == 0


def test_errors_exit_1(broker, url):
    r = tool("amqp-publish", "-u", url, "-e", "tools.no.such.exchange", "-r", "x", "-b", "y")
    assert r.returncode == 1
    assert ("server channel error 404, message: NOT_FOUND - no exchange 'tools.no.such.exchange' "
            "in vhost '/'" in r.stderr.decode()), r.stderr
    bad = "amqp://guest:wrong@%s:%d" % (broker.host, broker.port)
    r = tool("amqp-get", "-u", bad, "-q", "x")
    assert r.returncode == 1
    assert ("server connection error 403, message: ACCESS_REFUSED - Login was refused using "
            "authentication mechanism PLAIN" in r.stderr.decode()), r.stderr
    r = tool("amqp-declare-queue", "-u", broker.url("bob", "bob-secret2"), "-q", "tools.not.bobs")
    assert r.returncode == 1
    assert ("server channel error 403, message: ACCESS_REFUSED - access to queue 'tools.not.bobs' "
            "in vhost '/' refused for user 'bob'" in r.stderr.decode()), r.stderr
