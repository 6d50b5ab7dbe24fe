"""HTTPS helpers for test_https.py and test_https_expiration.py: the broker under test with
management.ssl.* / prometheus.ssl.* (pulsed or a private RabbitMQ node, by PULSE_TEST_TARGET)
and small HTTPS clients trusting the harness's test CA (certs.py)."""
import base64
import http.client
import json
import os
import socket
import ssl
import subprocess
import time

from harness.broker import HOST, PulsedBroker, RabbitBroker, free_port, target_name
from harness.certs import _leaf, certs

AUTH = {"Authorization": "Basic " + base64.b64encode(b"guest:guest").decode()}
TLS_ONLY_DROP = ("management.tcp.ip", "management.tcp.port", "prometheus.tcp.ip",
                 "prometheus.tcp.port")


def ssl_block(prefix, port, cert, key, ca=None):
    """management.ssl.* or prometheus.ssl.* keys, as rabbitmq.conf writes them."""
    d = {prefix + ".ssl.port": port, prefix + ".ssl.ip": HOST,
         prefix + ".ssl.certfile": cert, prefix + ".ssl.keyfile": key}
    if ca:
        d[prefix + ".ssl.cacertfile"] = ca
    return d


def start_broker(config, tls_only=False, amqps=None):
    """The broker under test with `config`. tls_only: no plaintext management or Prometheus
    listener is configured (pulsed gets no --http-listen/--prometheus-listen flags, RabbitMQ no
    management.tcp.*/prometheus.tcp.* keys). amqps: (certfile, keyfile) of an AMQPS listener
    (cacertfile the test CA), whose port is b.tls_port."""
    c = certs()
    config = dict(config)
    if target_name() == "rabbitmq":
        if tls_only:
            config.update({k: None for k in TLS_ONLY_DROP})
        if amqps:
            config.update({"ssl_options.certfile": amqps[0], "ssl_options.keyfile": amqps[1]})
        b = RabbitBroker(config, tls=bool(amqps))
        b.start()
    else:
        tls_port = None
        if amqps:
            tls_port = free_port()
            config.update({"listeners.ssl.default": "%s:%d" % (HOST, tls_port),
                           "ssl_options.cacertfile": c.ca, "ssl_options.certfile": amqps[0],
                           "ssl_options.keyfile": amqps[1], "ssl_options.verify": "verify_peer",
                           "ssl_options.fail_if_no_peer_cert": "false"})
        b = PulsedBroker(config, plain_http=not tls_only)
        b.start()
        b.tls_port = tls_port
    return b


def wait_port(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("nothing listens on %d" % port)


def client_context(ca=None):
    return ssl.create_default_context(cafile=ca or certs().ca)


def https_get(port, path, ca=None, host="localhost"):
    """(status, body, peer certificate serial) of one GET on a new HTTPS connection."""
    conn = http.client.HTTPSConnection(host, port, context=client_context(ca), timeout=10)
    try:
        conn.request("GET", path, headers=AUTH)
        r = conn.getresponse()
        body = r.read()
        return r.status, body, conn.sock.getpeercert()["serialNumber"]
    finally:
        conn.close()


def curl(*args):
    return subprocess.run(["curl", "-sS", "-u", "guest:guest", "-w", "\n%{http_code}"] +
                          list(args), capture_output=True, text=True, timeout=30)


def listeners(port):
    status, body, _ = https_get(port, "/api/overview")
    assert status == 200, body
    return [(l["protocol"], l["port"]) for l in json.loads(body)["listeners"]]


def new_server_cert(name):
    """A fresh localhost certificate from the test CA (a new serial): (certfile, keyfile)."""
    c = certs()
    _leaf(c.dir, name, "ca", "localhost", san="DNS:localhost,IP:127.0.0.1")
    return os.path.join(c.dir, name + ".pem"), os.path.join(c.dir, name + ".key")


def wait_log(b, text, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open(b.log_path, errors="replace") as f:
            if text in f.read():
                return
        time.sleep(0.1)
    raise AssertionError("%r not in the log:\n%s" % (text, b.log_tail()))
