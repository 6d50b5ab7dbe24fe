"""Signals and listeners as an operator sees them: SIGHUP re-reads the config file (applying
log.console.level, naming the changed keys that need a restart) and pulsed keeps serving; a
config file broken on reload is logged and the running configuration kept; IPv6 listeners."""
import os
import signal
import socket
import subprocess

import pika
import pytest

from harness.broker import HOST, PulsedBroker, free_port, ipv6_loopback_available, pulsed_binary
from harness.util import wait_for

pytestmark = pytest.mark.pulsed_only

OPENED = "user 'guest' opened vhost '/'"
RELOADED = "SIGHUP: reloaded config "


def log_text(b):
    with open(b.log_path, errors="replace") as f:
        return f.read()


def publish_get(b, body=b"after-hup"):
    """A round trip a client makes: the message comes back with its body and properties."""
    conn = b.connect()
    try:
        ch = conn.channel()
        q = ch.queue_declare("", exclusive=True).method.queue
        ch.basic_publish("", q, body, pika.BasicProperties(message_id="m-1", priority=3))
        method, props, got = ch.basic_get(q, auto_ack=True)
        assert method is not None, "the published message is not in the queue"
        assert (got, props.message_id, props.priority) == (body, "m-1", 3)
    finally:
        conn.close()


def hup(b, needle):
    """Sends SIGHUP and waits for one more `needle` line in the log; returns the log's length
    before, so that callers can look at what came after."""
    before = log_text(b)
    os.kill(b.pid, signal.SIGHUP)
    wait_for(lambda: log_text(b)[len(before):].count(needle) >= 1, timeout=10,
             msg="%r in the log after SIGHUP" % needle)
    assert b.proc.poll() is None, "pulsed exited on SIGHUP\n" + b.log_tail()
    return len(before)


@pytest.fixture
def pulsed():
    # No --log-level: the config file's level is the one in force, and the one a reload changes.
    b = PulsedBroker(config={"log.console.level": "info", "heartbeat": 60}, log_level=None)
    b.start()
    yield b
    b.stop()


def test_sighup_applies_log_level_and_names_keys_that_need_a_restart(pulsed):
    publish_get(pulsed)
    wait_for(lambda: OPENED in log_text(pulsed), msg="the connection logged at info")

    pulsed.write_config({"log.console.level": "warning", "heartbeat": 30})
    start = hup(pulsed, RELOADED)
    after = log_text(pulsed)[start:]
    assert "SIGHUP: no log files to reopen (pulsed logs to standard output)" in after
    assert (RELOADED + pulsed.config_path +
            ": applied: log.console.level; changed but need a restart: heartbeat") in after
    publish_get(pulsed)  # still serving, now quietly

    pulsed.write_config({"log.console.level": "info", "heartbeat": 30})
    start_info = hup(pulsed, RELOADED)
    publish_get(pulsed)
    wait_for(lambda: OPENED in log_text(pulsed)[start_info:], msg="info logging back on")
    # pulsed writes its log in order: between the two reloads, the connection made at warning
    # level left no info line, so the first reload did change the level.
    text = log_text(pulsed)
    first = text.index(RELOADED, start)
    second = text.index(RELOADED, first + 1)
    assert OPENED not in text[first:second], text[first:second]
    # heartbeat still differs from the running value: reported again, never applied.
    assert "applied: log.console.level; changed but need a restart: heartbeat" in text[second:]


def test_sighup_with_broken_config_keeps_running_config(pulsed):
    pulsed.write_config(text="log.console.level = warning\nbogus.key = 1\n")
    start = hup(pulsed, "SIGHUP: config not reloaded")
    assert ("SIGHUP: config not reloaded, keeping the running configuration: %s:2: "
            "unknown key 'bogus.key'" % pulsed.config_path) in log_text(pulsed)[start:]
    publish_get(pulsed)
    # The level of the broken file was not applied: info lines still appear.
    wait_for(lambda: OPENED in log_text(pulsed)[start:], msg="an info line after the reload")


def test_sighup_without_changes_says_so(pulsed):
    start = hup(pulsed, RELOADED)
    assert "applied: none; changed but need a restart: none" in log_text(pulsed)[start:]
    publish_get(pulsed)


needs_ipv6 = pytest.mark.skipif(not ipv6_loopback_available(),
                                reason="this machine has no IPv6 loopback (cannot bind ::1)")


@needs_ipv6
def test_bracketed_ipv6_amqp_listen():
    b = PulsedBroker(amqp_host="::1").start()
    try:
        assert "listening on [::1]:%d" % b.port in log_text(b)
        publish_get(b)  # pika connects to ::1
    finally:
        b.stop()


def _run_until_exit(tmp_path, amqp, http):
    p = subprocess.run([pulsed_binary(), "--data-dir", str(tmp_path / "data"),
                        "--amqp-listen", amqp, "--http-listen", http,
                        "--prometheus-listen", "%s:%d" % (HOST, free_port()),
                        "--stomp-listen", "%s:%d" % (HOST, free_port()),
                        "--web-stomp-listen", "%s:%d" % (HOST, free_port())],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                       timeout=20)
    return p.returncode, p.stdout.decode(errors="replace")


def test_busy_listener_names_address_and_reason(tmp_path):
    with socket.socket() as busy:
        busy.bind((HOST, 0))
        busy.listen()
        port = busy.getsockname()[1]
        rc, out = _run_until_exit(tmp_path, "%s:%d" % (HOST, free_port()), "%s:%d" % (HOST, port))
    assert rc == 2, out
    assert "pulsed: cannot listen (HTTP) on %s:%d: Address already in use" % (HOST, port) in out


@needs_ipv6
def test_busy_ipv6_listener_names_address_and_reason(tmp_path):
    with socket.socket(socket.AF_INET6) as busy:
        busy.bind(("::1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        rc, out = _run_until_exit(tmp_path, "[::1]:%d" % port, "%s:%d" % (HOST, free_port()))
    assert rc == 2, out
    assert "pulsed: cannot listen (AMQP) on [::1]:%d: Address already in use" % port in out
