"""HTTPS for the management API and the Prometheus listener (issue 13): management.ssl.* and
prometheus.ssl.* (RabbitMQ's keys), curl and rabbitmqadmin over TLS, a TLS-only node, a
plaintext client and a silent client on the HTTPS port, a wrong CA, SIGHUP reloading the
certificate while a keep-alive connection goes on, and the certificate-expiration health check
(test_https_expiration.py).

Runs against pulsed, and against a private RabbitMQ node with PULSE_TEST_TARGET=rabbitmq
(tests marked pulsed_only are what RabbitMQ does not have or does differently)."""
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

import pytest

from harness.broker import HOST, free_port, pulsed_binary
from harness.certs import certs
from harness.https import (AUTH, client_context, curl, https_get, listeners, new_server_cert,
                           ssl_block, start_broker, wait_log, wait_port)


@pytest.fixture(scope="module")
def node():
    """Management and Prometheus over HTTPS beside their plaintext listeners."""
    c = certs()
    b_ports = {"m": free_port(), "p": free_port()}
    config = ssl_block("management", b_ports["m"], c.server_cert, c.server_key, c.ca)
    config.update(ssl_block("prometheus", b_ports["p"], c.server_cert, c.server_key, c.ca))
    b = start_broker(config)
    b.https_port, b.prometheus_tls_port = b_ports["m"], b_ports["p"]
    wait_port(b.https_port)
    wait_port(b.prometheus_tls_port)
    yield b
    b.stop(check=False)


def test_curl_overview_over_https_with_cacert(node):
    r = curl("--cacert", certs().ca, "https://localhost:%d/api/overview" % node.https_port)
    assert r.returncode == 0, r.stderr
    body, status = r.stdout.rsplit("\n", 1)
    assert status == "200"
    ov = json.loads(body)
    listed = [(l["protocol"], l["port"]) for l in ov["listeners"]]
    assert ("https", node.https_port) in listed
    assert ("https/prometheus", node.prometheus_tls_port) in listed
    # The plaintext listeners stay: management.tcp.* / --http-listen are configured too.
    assert ("http", node.http_port) in listed
    assert ("http/prometheus", node.prometheus_port) in listed


def test_prometheus_metrics_over_https(node):
    r = curl("--cacert", certs().ca, "https://localhost:%d/metrics" % node.prometheus_tls_port)
    assert r.returncode == 0, r.stderr
    body, status = r.stdout.rsplit("\n", 1)
    assert status == "200"
    assert "rabbitmq_identity_info" in body or "rabbitmq_build_info" in body
    # The Prometheus port answers /metrics only, over TLS as in plaintext.
    status, body, _ = https_get(node.prometheus_tls_port, "/api/overview")
    assert status == 404
    assert json.loads(body) == {"error": "Object Not Found", "reason": "Not Found"}


def test_rabbitmqadmin_with_ssl(node):
    admin = shutil.which("rabbitmqadmin")
    if admin is None:
        pytest.skip("rabbitmqadmin not installed (Debian's rabbitmq-server ships it)")
    base = [admin, "--ssl", "--ssl-ca-cert-file", certs().ca, "-H", "localhost",
            "-P", str(node.https_port), "-u", "guest", "-p", "guest"]
    name = "https-admin-%d" % os.getpid()
    r = subprocess.run(base + ["declare", "queue", "name=" + name, "durable=false"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(base + ["-f", "raw_json", "list", "queues", "name"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert {"name": name} in json.loads(r.stdout)
    r = subprocess.run(base + ["delete", "queue", "name=" + name],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    # Without the CA the server certificate is not trusted: rabbitmqadmin refuses.
    bad = [a if a != certs().ca else certs().other_ca for a in base]
    r = subprocess.run(bad + ["list", "queues"], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "CERTIFICATE_VERIFY_FAILED" in r.stdout + r.stderr


def test_health_checks_see_the_https_listeners(node):
    for port in (node.https_port, node.prometheus_tls_port):
        status, body, _ = https_get(node.https_port, "/api/health/checks/port-listener/%d" % port)
        assert (status, json.loads(body)) == (200, {"status": "ok", "port": port})
    for name in ("https", "HTTPS", "https/prometheus"):
        status, body, _ = https_get(node.https_port,
                                    "/api/health/checks/protocol-listener/" +
                                    name.replace("/", "%2F"))
        assert (status, json.loads(body)) == (200, {"status": "ok", "protocol": name.lower()})


def test_wrong_ca_fails_on_the_client_side(node):
    r = curl("--cacert", certs().other_ca, "https://localhost:%d/api/overview" % node.https_port)
    assert r.returncode == 60, r.stdout + r.stderr  # curl: peer certificate not trusted
    with pytest.raises(ssl.SSLCertVerificationError):
        https_get(node.https_port, "/api/overview", ca=certs().other_ca)
    # The listener is not disturbed.
    assert https_get(node.https_port, "/api/overview")[0] == 200


def test_plaintext_request_on_the_https_port_is_closed(node):
    with socket.create_connection((HOST, node.https_port), timeout=10) as s:
        s.sendall(b"GET /api/overview HTTP/1.1\r\nHost: localhost\r\n\r\n")
        got = b""
        started = time.time()
        while True:
            chunk = s.recv(4096)  # a timeout here fails the test: the server must close
            if not chunk:
                break
            got += chunk
        assert time.time() - started < 5
    # At most a TLS alert record (0x15), never an HTTP answer.
    assert not got.startswith(b"HTTP/")
    assert got == b"" or got[0] == 0x15, got
    assert https_get(node.https_port, "/api/overview")[0] == 200


def test_silent_client_is_closed_after_the_handshake_timeout(node):
    # cowboy's (ranch's) TLS handshake timeout on RabbitMQ is 5 s; pulsed uses the same.
    with socket.create_connection((HOST, node.https_port), timeout=15) as s:
        started = time.time()
        assert s.recv(4096) == b""
        took = time.time() - started
    assert 3 <= took <= 10, took


def test_keep_alive_over_https(node):
    conn = http.client.HTTPSConnection("localhost", node.https_port, context=client_context(),
                                       timeout=10)
    try:
        for _ in range(3):
            conn.request("GET", "/api/whoami", headers=AUTH)
            r = conn.getresponse()
            assert r.status == 200
            assert json.loads(r.read())["name"] == "guest"
        sock = conn.sock
        conn.request("GET", "/api/overview", headers=AUTH)
        r = conn.getresponse()
        assert r.status == 200
        r.read()
        assert conn.sock is sock  # the same TLS connection all along
    finally:
        conn.close()


@pytest.mark.pulsed_only  # RabbitMQ's limits differ (cowboy's)
def test_http_limits_apply_over_https(node):
    def exchange(request):
        with client_context().wrap_socket(socket.create_connection((HOST, node.https_port),
                                                                   timeout=20),
                                          server_hostname="localhost") as s:
            s.sendall(request)
            got = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except (ssl.SSLError, ConnectionResetError):
                    break
                if not chunk:
                    break
                got += chunk
            return got
    # Headers beyond 64 KiB: 400, then closed.
    big = b"GET /api/overview HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (70 * 1024) + b"\r\n\r\n"
    got = exchange(big)
    assert got.startswith(b"HTTP/1.1 400"), got[:200]
    # A body announced beyond 20 MiB: 413 at once.
    head = (b"PUT /api/queues/%2F/x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 22020096\r\n\r\n")
    got = exchange(head + b"{" * 1024)
    assert got.startswith(b"HTTP/1.1 413"), got[:200]


# -- a TLS-only node ---------------------------------------------------------------------------

def test_tls_only_node_has_no_plaintext_management_or_prometheus_listener():
    c = certs()
    mport, pport = free_port(), free_port()
    config = ssl_block("management", mport, c.server_cert, c.server_key, c.ca)
    config.update(ssl_block("prometheus", pport, c.server_cert, c.server_key))
    b = start_broker(config, tls_only=True)
    try:
        wait_port(mport)
        listed = listeners(mport)
        protocols = [p for p, _ in listed]
        assert ("https", mport) in listed and ("https/prometheus", pport) in listed
        # As rabbit_mgmt_app: only the .ssl listener configured, no plaintext one.
        assert "http" not in protocols and "http/prometheus" not in protocols
        for port in (b.http_port, b.prometheus_port):  # the harness's ports stay unbound
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((HOST, port), timeout=2)
        r = curl("--cacert", c.ca, "https://localhost:%d/metrics" % pport)
        assert r.stdout.rsplit("\n", 1)[1] == "200", r.stderr
    finally:
        b.stop(check=False)


@pytest.mark.pulsed_only
def test_management_tcp_key_keeps_the_plaintext_listener_beside_https():
    c = certs()
    mport, hport, pport = free_port(), free_port(), free_port()
    config = ssl_block("management", mport, c.server_cert, c.server_key)
    config.update({"management.tcp.ip": HOST, "management.tcp.port": hport,
                   "prometheus.tcp.ip": HOST, "prometheus.tcp.port": pport})
    b = start_broker(config, tls_only=True)
    try:
        wait_port(mport)
        listed = listeners(mport)
        assert ("https", mport) in listed and ("http", hport) in listed
        # prometheus.ssl is not configured: its plaintext listener stays (on its configured
        # port here; the default one may be taken by the node scripts/setup.sh leaves).
        assert ("http/prometheus", pport) in listed
    finally:
        b.stop(check=False)


@pytest.mark.pulsed_only
def test_https_listen_flag_and_its_requirements():
    c = certs()
    d = tempfile.mkdtemp(prefix="pulse-it-https-")
    conf = os.path.join(d, "pulsed.conf")
    configured, flagged = free_port(), free_port()
    base = [pulsed_binary(), "--data-dir", os.path.join(d, "data"), "--config", conf,
            "--amqp-listen", "%s:%d" % (HOST, free_port()), "--log-level", "info",
            "--prometheus-listen", "%s:%d" % (HOST, free_port()),
            "--stomp-listen", "%s:%d" % (HOST, free_port()),
            "--web-stomp-listen", "%s:%d" % (HOST, free_port())]
    try:
        # Without management.ssl.certfile and .keyfile the flag is refused by name.
        open(conf, "w").close()
        r = subprocess.run(base + ["--https-listen", "%s:%d" % (HOST, flagged)],
                           capture_output=True, text=True, timeout=20)
        assert r.returncode == 2
        assert "--https-listen needs management.ssl.certfile and management.ssl.keyfile" \
            in r.stderr
        # With them, the flag's address replaces management.ssl.ip/port.
        with open(conf, "w") as f:
            for k, v in ssl_block("management", configured, c.server_cert, c.server_key).items():
                f.write("%s = %s\n" % (k, v))
        p = subprocess.Popen(base + ["--https-listen", "%s:%d" % (HOST, flagged)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(flagged)
            assert ("https", flagged) in listeners(flagged)
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((HOST, configured), timeout=2)
        finally:
            p.terminate()
            p.wait(20)
    finally:
        shutil.rmtree(d, ignore_errors=True)


# -- SIGHUP reload -----------------------------------------------------------------------------

@pytest.mark.pulsed_only  # RabbitMQ reloads with rabbitmqctl eval 'ssl:clear_pem_cache().'
def test_sighup_reloads_the_certificate_and_keep_alive_connections_go_on():
    c = certs()
    d = tempfile.mkdtemp(prefix="pulse-it-https-")
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    shutil.copy(c.server_cert, cert)
    shutil.copy(c.server_key, key)
    mport = free_port()
    b = start_broker(ssl_block("management", mport, cert, key, c.ca))
    try:
        wait_port(mport)
        old_serial = https_get(mport, "/api/overview")[2]
        kept = http.client.HTTPSConnection("localhost", mport, context=client_context(),
                                           timeout=10)
        kept.request("GET", "/api/whoami", headers=AUTH)
        assert kept.getresponse().read()

        new_cert, new_key = new_server_cert("reload-%d" % os.getpid())
        shutil.copy(new_cert, cert)
        shutil.copy(new_key, key)
        os.kill(b.pid, signal.SIGHUP)
        wait_log(b, "TLS certificate of management.ssl reloaded")
        status, _, serial = https_get(mport, "/api/overview")
        assert status == 200 and serial != old_serial
        out = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % mport,
                              "-showcerts", "-CAfile", c.ca],
                             input="", capture_output=True, text=True, timeout=20).stdout
        pem = out[out.index("-----BEGIN CERTIFICATE-----"):
                  out.index("-----END CERTIFICATE-----") + 25]
        shown = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=pem,
                               capture_output=True, text=True).stdout.strip()
        assert shown == "serial=" + serial

        # The connection opened before the reload keeps its session and its certificate.
        kept.request("GET", "/api/overview", headers=AUTH)
        r = kept.getresponse()
        assert r.status == 200 and json.loads(r.read())["listeners"]
        assert kept.sock.getpeercert()["serialNumber"] == old_serial

        # A broken file on the next reload: the loaded certificate stays in use.
        with open(cert, "w") as f:
            f.write("not a certificate\n")
        os.kill(b.pid, signal.SIGHUP)
        wait_log(b, "TLS certificate of management.ssl not reloaded")
        status, _, after = https_get(mport, "/api/overview")
        assert status == 200 and after == serial
        kept.request("GET", "/api/whoami", headers=AUTH)
        assert kept.getresponse().status == 200
        kept.close()
    finally:
        b.stop(check=False)
        shutil.rmtree(d, ignore_errors=True)
