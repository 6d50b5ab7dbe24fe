"""A TLS-only node as the README and the packaged /etc/pulse/pulse.conf describe it (issue 13):
the commented TLS block of packaging/pulse.conf, uncommented with the harness certificates and
free ports, plus `listeners.tcp = none`. pulsed then serves AMQPS, the management API over HTTPS
and Prometheus over HTTPS, and nothing in plaintext. pulsed_only: it starts pulsed by hand (no
harness flag may add a plaintext listener)."""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pika
import pytest

from harness.amqps import client_context as amqps_context
from harness.broker import HOST, free_port, pulsed_binary
from harness.certs import certs
from harness.https import curl, listeners, wait_port

pytestmark = pytest.mark.pulsed_only

PACKAGED_CONF = os.path.join(os.path.dirname(__file__), "..", "..", "packaging", "pulse.conf")


def packaged_tls_block():
    """The `#   key = value` lines of pulse.conf's TLS section, as (key, value) pairs."""
    with open(PACKAGED_CONF) as f:
        text = f.read()
    section = text.split("## TLS ", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^#   ([a-z_.]+\.[a-z_.0-9]+) = (\S+)$", section, re.M)


@pytest.fixture(scope="module")
def node():
    c = certs()
    ports = {5671: free_port(), 15671: free_port(), 15691: free_port()}
    files = {"/etc/pulse/tls/server.pem": c.server_cert, "/etc/pulse/tls/server.key": c.server_key,
             "/etc/pulse/tls/ca.pem": c.ca}
    lines = ["listeners.tcp = none", "stomp.listeners.tcp = none", "web_stomp.tcp.listener = none"]
    block = packaged_tls_block()
    assert len(block) >= 10, block  # the README's and the package's example is all there
    for key, value in block:
        if value.isdigit():
            value = "%s:%d" % (HOST, ports[int(value)]) if key.startswith("listeners.") \
                else str(ports[int(value)])
            if not key.startswith("listeners."):
                lines.append(key.rsplit(".", 1)[0] + ".ip = " + HOST)
        lines.append("%s = %s" % (key, files.get(value, value)))
    d = tempfile.mkdtemp(prefix="pulse-it-tls-only-")
    conf = os.path.join(d, "pulse.conf")
    with open(conf, "w") as f:
        f.write("\n".join(lines) + "\n")
    log = open(os.path.join(d, "pulsed.log"), "w")
    p = subprocess.Popen([pulsed_binary(), "--data-dir", os.path.join(d, "data"),
                          "--config", conf], stdout=log, stderr=subprocess.STDOUT)
    try:
        for port in ports.values():
            wait_port(port)
        yield {"amqps": ports[5671], "https": ports[15671], "prometheus": ports[15691],
               "log": log.name, "proc": p}
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(20)
        log.close()
        shutil.rmtree(d, ignore_errors=True)


def test_only_tls_listeners_are_listed(node):
    listed = listeners(node["https"])
    assert sorted(listed) == sorted([("amqp/ssl", node["amqps"]), ("https", node["https"]),
                                     ("https/prometheus", node["prometheus"])])


def test_nothing_listens_in_plaintext(node):
    with open(node["log"]) as f:
        log = f.read()
    assert not re.search(r"listening on .*:5672\b", log), log
    ports = set()
    for line in subprocess.run(["ss", "-Htlnp"], capture_output=True, text=True).stdout.splitlines():
        if "pid=%d," % node["proc"].pid in line:
            ports.add(int(line.split()[3].rsplit(":", 1)[1]))
    assert ports == {node["amqps"], node["https"], node["prometheus"]}, ports


def test_amqps_publish_and_get(node):
    params = pika.ConnectionParameters(
        host=HOST, port=node["amqps"], ssl_options=pika.SSLOptions(amqps_context(), "localhost"),
        credentials=pika.PlainCredentials("guest", "guest"), connection_attempts=1,
        socket_timeout=10)
    conn = pika.BlockingConnection(params)
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_publish("", q, b"over tls only")
    deadline = time.time() + 10
    while True:
        method, _, body = ch.basic_get(q, auto_ack=True)
        if method or time.time() > deadline:
            break
        time.sleep(0.05)
    assert body == b"over tls only"
    conn.close()


def test_api_and_metrics_over_https(node):
    ca = certs().ca
    r = curl("--cacert", ca, "https://localhost:%d/api/overview" % node["https"])
    assert r.stdout.rsplit("\n", 1)[1] == "200", r.stderr
    r = curl("--cacert", ca, "https://localhost:%d/metrics" % node["prometheus"])
    out, code = r.stdout.rsplit("\n", 1)
    assert code == "200" and "rabbitmq_" in out, r.stderr
    # A plaintext request on the HTTPS port gets no HTTP answer.
    s = socket.create_connection((HOST, node["https"]), timeout=10)
    s.sendall(b"GET /api/overview HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        answer = s.recv(100)
    except ConnectionResetError:
        answer = b""
    assert not answer.startswith(b"HTTP/"), answer
    s.close()
