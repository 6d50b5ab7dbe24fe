"""Out of file descriptors: past the process's RLIMIT_NOFILE a new connection is refused at
once (accepted with a descriptor kept in reserve and closed), the accept loop does not spin
nor flood the log, connections already open keep working, and once some close new ones are
accepted again. pulsed-only: RabbitMQ's limit is the Erlang VM's."""
import os
import re
import resource
import shutil
import subprocess
import tempfile
import time
import urllib.request

import pika
import pytest

from harness.broker_base import free_port
from harness.pulsed import pulsed_binary
from harness.util import wait_for

pytestmark = pytest.mark.pulsed_only

NOFILE = 64


@pytest.fixture
def node():
    tmp = tempfile.mkdtemp(prefix="pulse-fd-")
    ports = {k: free_port() for k in ("amqp", "http", "prom", "stomp", "ws")}
    log_path = os.path.join(tmp, "pulsed.log")

    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))

    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [pulsed_binary(), "--data-dir", os.path.join(tmp, "data"),
             "--amqp-listen", "127.0.0.1:%d" % ports["amqp"],
             "--http-listen", "127.0.0.1:%d" % ports["http"],
             "--prometheus-listen", "127.0.0.1:%d" % ports["prom"],
             "--stomp-listen", "127.0.0.1:%d" % ports["stomp"],
             "--web-stomp-listen", "127.0.0.1:%d" % ports["ws"]],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=limit)
    try:
        wait_for(lambda: b"Prometheus metrics listening" in open(log_path, "rb").read()
                 or proc.poll() is not None, timeout=20, msg="pulsed started")
        assert proc.poll() is None, open(log_path).read()
        yield proc, ports, log_path
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


def connect(port, timeout=5):
    return pika.BlockingConnection(pika.ConnectionParameters(
        "127.0.0.1", port, socket_timeout=timeout, blocked_connection_timeout=timeout,
        connection_attempts=1))


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def overview(port):
    with urllib.request.urlopen(urllib.request.Request(
            "http://127.0.0.1:%d/api/overview" % port,
            headers={"Authorization": "Basic Z3Vlc3Q6Z3Vlc3Q="}), timeout=5) as r:
        return r.status


def served(port):
    try:
        return overview(port) == 200
    except OSError:
        return False


def test_connections_past_the_descriptor_limit_are_refused_at_once(node):
    proc, ports, log_path = node
    conns = []
    try:
        with pytest.raises(pika.exceptions.AMQPConnectionError):
            for _ in range(NOFILE + 10):
                conns.append(connect(ports["amqp"]))
        assert 10 < len(conns) < NOFILE, len(conns)

        # Refused at once, not left waiting in the backlog; the loop does not spin meanwhile.
        cpu_before = cpu_seconds(proc.pid)
        start = time.time()
        for _ in range(20):
            with pytest.raises(pika.exceptions.AMQPConnectionError):
                connect(ports["amqp"])
        assert time.time() - start < 10
        with pytest.raises(OSError):
            overview(ports["http"])
        time.sleep(1)
        assert cpu_seconds(proc.pid) - cpu_before < 0.8, "the accept loop spins"
        lines = [l for l in open(log_path, errors="replace") if "out of file descriptors" in l]
        assert 1 <= len(lines) <= 4, lines
        assert re.search(r"AMQP listener: out of file descriptors .*refused \d+", lines[0])

        # What is open keeps working.
        ch = conns[0].channel()
        ch.queue_declare("fd-q", auto_delete=True)
        ch.basic_publish("", "fd-q", b"still here")
        assert ch.basic_get("fd-q", auto_ack=True)[2] == b"still here"

        # Descriptors given back: new connections and HTTP requests are served again.
        for c in conns[-6:]:
            c.close()
        del conns[-6:]
        wait_for(lambda: served(ports["http"]), timeout=10, msg="HTTP served again")
        c = connect(ports["amqp"])
        conns.append(c)
        assert c.is_open
        assert proc.poll() is None
    finally:
        for c in conns:
            try:
                c.close()
            except Exception:  # noqa: closing what the broker may have dropped
                pass
