"""AMQPS failures (issue 13), each while another TLS connection keeps working: a plaintext
client on the TLS port, a client that does not trust the server's CA, client certificates from
another CA or expired, no client certificate with fail_if_no_peer_cert, a silent client closed
by the handshake timeout; against pulsed and RabbitMQ alike. pulsed only: an expired server
certificate is logged at start, a bad certificate file stops the start naming the key and file,
SIGHUP reloads the certificate for new handshakes (seen by openssl s_client) while an open
connection keeps publishing, and a bad new file keeps the old certificate."""
import os
import shutil
import socket
import ssl
import subprocess
import time

import pika
import pytest

from harness.amqps import (PulsedTlsBroker, client_context, extra_client_cert, pika_params,
                           start_tls_broker)
from harness.broker import HOST, free_port, pulsed_binary, run_pulsed_until_exit
from harness.certs import _leaf, certs

pytestmark = pytest.mark.pulsed_only  # both brokers in the default run

HANDSHAKE_TIMEOUT_MS = 3000


@pytest.fixture(scope="module", params=["pulsed", "rabbitmq"])
def strict(request):
    """verify_peer with fail_if_no_peer_cert, EXTERNAL not offered, a short handshake_timeout."""
    b = start_tls_broker(request.param, external=False, strict=True,
                         config={"handshake_timeout": HANDSHAKE_TIMEOUT_MS})
    b.target_name = request.param
    yield b
    b.stop(check=False)


@pytest.fixture
def witness(strict):
    """A TLS connection (with the client certificate) open across the test; check() publishes
    and reads back through it."""
    c = certs()
    conn = pika.BlockingConnection(pika_params(strict, client_context(
        cert=c.client_cert, key=c.client_key)))
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue

    class W:
        def check(self):
            ch.basic_publish("", q, b"still here")
            assert ch.basic_get(q, auto_ack=True)[2] == b"still here"
    w = W()
    w.check()
    yield w
    w.check()
    conn.close()


def tls_connect(port, ctx):
    s = socket.create_connection((HOST, port), timeout=10)
    return ctx.wrap_socket(s, server_hostname="localhost")


def assert_tls_refused(port, ctx):
    """The handshake fails, or (TLS 1.3: the client's certificate is judged after the client's
    handshake is done) the first read does; never an AMQP connection.start."""
    t = time.time()
    with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
        s = tls_connect(port, ctx)
        s.sendall(b"AMQP\x00\x00\x09\x01")
        data = s.recv(100)
        if not data:
            raise ConnectionResetError("closed without an alert")
    assert time.time() - t < 5


def test_plaintext_client_on_the_tls_port(strict, witness):
    t = time.time()
    params = pika.ConnectionParameters(host=HOST, port=strict.tls_port, connection_attempts=1,
                                       socket_timeout=10)
    with pytest.raises(pika.exceptions.AMQPConnectionError):
        pika.BlockingConnection(params)
    assert time.time() - t < 8
    witness.check()


def test_client_with_the_wrong_ca(strict, witness):
    c = certs()
    with pytest.raises(ssl.SSLCertVerificationError) as e:
        tls_connect(strict.tls_port, client_context(ca=c.other_ca, cert=c.client_cert,
                                                    key=c.client_key))
    assert "certificate verify failed" in str(e.value)
    witness.check()


def test_client_certificate_from_another_ca(strict, witness):
    cert, key = extra_client_cert("other-client", certs().client_user, ca="other-ca")
    assert_tls_refused(strict.tls_port, client_context(cert=cert, key=key))
    witness.check()


def test_expired_client_certificate(strict, witness):
    cert, key = extra_client_cert("expired-client", certs().client_user, expired=True)
    assert_tls_refused(strict.tls_port, client_context(cert=cert, key=key))
    witness.check()


def test_no_client_certificate_with_fail_if_no_peer_cert(strict, witness):
    assert_tls_refused(strict.tls_port, client_context())
    witness.check()


def test_silent_client_closed_after_the_handshake_timeout(strict, witness):
    # pulsed bounds the TLS handshake by handshake_timeout; RabbitMQ by ssl_handshake_timeout
    # (5 s by default).
    expected = HANDSHAKE_TIMEOUT_MS / 1000 if strict.target_name == "pulsed" else 5
    s = socket.create_connection((HOST, strict.tls_port), timeout=expected + 10)
    t = time.time()
    deadline = t + expected - 1
    while time.time() < deadline:  # the broker keeps serving meanwhile
        witness.check()
        time.sleep(0.2)
    try:
        assert s.recv(10) == b""
    except ConnectionResetError:
        pass
    elapsed = time.time() - t
    assert expected - 1 <= elapsed <= expected + 2, elapsed
    witness.check()


def test_pulsed_logs_failed_handshakes(strict):
    """Each failure above, made again here, leaves its reason in pulsed's log."""
    if strict.target_name != "pulsed":
        pytest.skip("pulsed's log lines")
    c = certs()
    start = len(strict.log_text())

    def logged(why):
        deadline = time.time() + HANDSHAKE_TIMEOUT_MS / 1000 + 5
        while why not in strict.log_text()[start:]:
            assert time.time() < deadline, "no %r in\n%s" % (why, strict.log_text()[start:])
            time.sleep(0.1)

    with pytest.raises(pika.exceptions.AMQPConnectionError):
        pika.BlockingConnection(pika.ConnectionParameters(
            host=HOST, port=strict.tls_port, connection_attempts=1, socket_timeout=10))
    logged("TLS handshake failed: wrong version number")  # plaintext AMQP

    with pytest.raises(ssl.SSLCertVerificationError):
        tls_connect(strict.tls_port, client_context(ca=c.other_ca, cert=c.client_cert,
                                                    key=c.client_key))
    logged("TLS handshake failed: tlsv1 alert unknown ca")  # the client's verdict

    cert, key = extra_client_cert("other-client", c.client_user, ca="other-ca")
    assert_tls_refused(strict.tls_port, client_context(cert=cert, key=key))
    logged("TLS handshake failed: certificate verify failed "
           "(unable to get local issuer certificate)")

    cert, key = extra_client_cert("expired-client", c.client_user, expired=True)
    assert_tls_refused(strict.tls_port, client_context(cert=cert, key=key))
    logged("TLS handshake failed: certificate verify failed (certificate has expired)")

    assert_tls_refused(strict.tls_port, client_context())
    logged("TLS handshake failed: peer did not return a certificate")

    with socket.create_connection((HOST, strict.tls_port), timeout=10):  # silent
        logged("TLS handshake timeout, closing")


# -- pulsed only: start-up checks and SIGHUP reload ---------------------------------------

def serial_seen(port):
    """The serial of the certificate a new handshake gets (openssl s_client)."""
    p = subprocess.run(["openssl", "s_client", "-connect", "%s:%d" % (HOST, port),
                        "-servername", "localhost"], input="", capture_output=True, text=True,
                       timeout=20)
    pem = p.stdout[p.stdout.index("-----BEGIN CERTIFICATE-----"):
                   p.stdout.index("-----END CERTIFICATE-----") + 25]
    x = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=pem,
                       capture_output=True, text=True, check=True)
    return x.stdout.strip().split("=", 1)[1]


def file_serial(path):
    x = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in", path],
                       capture_output=True, text=True, check=True)
    return x.stdout.strip().split("=", 1)[1]


def wait_log(broker, text, count, timeout=10):
    deadline = time.time() + timeout
    while broker.log_text().count(text) < count:
        assert time.time() < deadline, "no %r in\n%s" % (text, broker.log_text()[-3000:])
        time.sleep(0.1)


def test_sighup_reloads_the_certificate_for_new_handshakes(tmp_path):
    c = certs()
    cert, key = str(tmp_path / "server.pem"), str(tmp_path / "server.key")
    shutil.copy(c.server_cert, cert)
    shutil.copy(c.server_key, key)
    b = PulsedTlsBroker(config={"ssl_options.certfile": cert, "ssl_options.keyfile": key})
    b.start()
    try:
        conn = pika.BlockingConnection(pika_params(b, client_context()))
        ch = conn.channel()
        q = ch.queue_declare("", exclusive=True).method.queue
        ch.confirm_delivery()
        ch.basic_publish("", q, b"before")
        assert serial_seen(b.tls_port) == file_serial(c.server_cert)

        # A new certificate and key (same CA and names) replace the files.
        _leaf(str(tmp_path), "next", os.path.join(c.dir, "ca"), "localhost",
              san="DNS:localhost,IP:127.0.0.1")
        shutil.copy(str(tmp_path / "next.key"), key)
        shutil.copy(str(tmp_path / "next.pem"), cert)
        os.kill(b.pid, 1)
        wait_log(b, "TLS certificate of ssl_options reloaded", 1)
        assert serial_seen(b.tls_port) == file_serial(cert) != file_serial(c.server_cert)
        ch.basic_publish("", q, b"after")  # the open connection keeps its session

        # A broken file: the previous certificate stays, and the log says why.
        with open(cert, "w") as f:
            f.write("not a certificate\n")
        os.kill(b.pid, 1)
        wait_log(b, "not reloaded, the previous one stays in use", 1)
        assert "ssl_options.certfile '%s'" % cert in b.log_text()
        assert serial_seen(b.tls_port) == file_serial(str(tmp_path / "next.pem"))
        ch.basic_publish("", q, b"still")
        got = [ch.basic_get(q, auto_ack=True)[2] for _ in range(3)]
        assert got == [b"before", b"after", b"still"]
        conn.close()
        # New TLS connections work with the kept certificate.
        conn = pika.BlockingConnection(pika_params(b, client_context()))
        conn.close()
    finally:
        b.stop(check=False)


def test_bad_certificate_file_stops_the_start(tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("garbage\n")
    c = certs()
    conf = tmp_path / "pulsed.conf"
    conf.write_text("listeners.ssl.default = 127.0.0.1:%d\nssl_options.certfile = %s\n"
                    "ssl_options.keyfile = %s\n" % (free_port(), bad, c.server_key))
    rc, out = run_pulsed_until_exit(str(tmp_path / "data"), extra_args=["--config", str(conf)])
    assert rc == 2, out
    assert "ssl_options.certfile '%s'" % bad in out, out


def test_expired_server_certificate_is_logged_at_start():
    c = certs()
    b = PulsedTlsBroker(config={"ssl_options.certfile": c.expired_cert,
                                "ssl_options.keyfile": c.expired_key})
    b.start()
    try:
        # Logged once every listener is up, after the readiness line start() waits for.
        deadline = time.time() + 10
        while "TLS certificate of ssl_options has expired" not in b.log_text():
            assert time.time() < deadline, b.log_text()
            time.sleep(0.05)
        with pytest.raises(ssl.SSLCertVerificationError) as e:
            tls_connect(b.tls_port, client_context())
        assert "certificate has expired" in str(e.value)
    finally:
        b.stop(check=False)


def test_amqps_listen_flag(tmp_path):
    """--amqps-listen replaces listeners.ssl.*; ssl_options still come from --config."""
    c = certs()
    conf = tmp_path / "pulsed.conf"
    conf.write_text("ssl_options.certfile = %s\nssl_options.keyfile = %s\n"
                    % (c.server_cert, c.server_key))
    port = free_port()
    args = [pulsed_binary(), "--data-dir", str(tmp_path / "data"), "--config", str(conf),
            "--amqp-listen", "%s:%d" % (HOST, free_port()),
            "--http-listen", "%s:%d" % (HOST, free_port()),
            "--prometheus-listen", "%s:%d" % (HOST, free_port()),
            "--stomp-listen", "%s:%d" % (HOST, free_port()),
            "--web-stomp-listen", "%s:%d" % (HOST, free_port()),
            "--amqps-listen", "%s:%d" % (HOST, port)]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for line in p.stdout:
            if b"AMQPS (TLS) listening on 127.0.0.1:%d" % port in line:
                break
        s = tls_connect(port, client_context())
        s.sendall(b"AMQP\x00\x00\x09\x01")
        assert s.recv(7)[:1] == b"\x01"  # connection.start, over TLS
        s.close()
    finally:
        p.terminate()
        p.wait(10)
    # Without ssl_options.certfile the flag cannot start a listener: pulsed says what is missing.
    rc, out = run_pulsed_until_exit(str(tmp_path / "data2"),
                                    extra_args=["--amqps-listen", "%s:%d" % (HOST, free_port())])
    assert rc == 2 and "ssl_options.certfile" in out, out
