"""The C++ client and its tools over TLS (issue 13): pulse-perf, pulse-publish and pulse-listen
with amqps:// against a private RabbitMQ node with a TLS listener and the harness's certificates
(harness/certs.py): CA verification, hostname verification and SNI, verify_none, SASL EXTERNAL
with a client certificate, and the failure cases (wrong CA, wrong host name, plaintext client on
the TLS port, TLS client on the plaintext port).

pulsed-only: it starts its own RabbitMQ node (pulsed has no TLS listener yet)."""
import json
import subprocess
import time
import uuid

import pytest

from harness.broker import RabbitBroker, built_tool
from harness.pulse_tools import Listener, numbered, publish

pytestmark = pytest.mark.pulsed_only

TIMEOUT = 60


@pytest.fixture(scope="module")
def rabbit():
    b = RabbitBroker(tls_external=True)
    b.start()
    u = b.certs.client_user
    for args in (("add_user", u, "unused-password"), ("clear_password", u),
                 ("set_permissions", "-p", "/", u, ".*", ".*", ".*")):
        r = b.ctl(*args)
        assert r.returncode == 0, r.stderr
    yield b
    b.stop(check=False)


@pytest.fixture(scope="module")
def perf():
    return built_tool("PULSE_PERF_BIN", "pulse-perf")


def run_perf(perf, uri, *args):
    """pulse-perf --json: its errors are in the JSON's `errors`, which `output` joins with
    stderr for the failure checks."""
    cmd = [perf, "--uri", uri, "--json", "-x1", "-y1", "-s32", "-a", "-c", "100", "-C", "2000"]
    p = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=TIMEOUT)
    errors = json.loads(p.stdout).get("errors", []) if p.stdout.strip() else []
    p.output = p.stderr + "\n".join(str(e) for e in errors)
    return p


def ca_query(rabbit, **extra):
    return dict({"cacertfile": rabbit.certs.ca}, **extra)


def assert_perf_ok(p):
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    assert s["ok"] and s["verified"] and s["sent"] == s["received"] == s["confirmed"] == 2000, s


def test_perf_over_amqps_with_cacertfile(perf, rabbit):
    assert_perf_ok(run_perf(perf, rabbit.tls_url(query=ca_query(rabbit))))


def test_perf_over_amqps_by_ip_address(perf, rabbit):
    # The server certificate has IP:127.0.0.1 in its SAN: the address itself is verified.
    assert_perf_ok(run_perf(perf, rabbit.tls_url(host="127.0.0.1", query=ca_query(rabbit))))


def test_verify_none_accepts_an_unknown_ca(perf, rabbit):
    assert_perf_ok(run_perf(perf, rabbit.tls_url(query={"verify": "verify_none"})))


def test_wrong_ca_fails_with_the_reason(perf, rabbit):
    t = time.monotonic()
    p = run_perf(perf, rabbit.tls_url(query={"cacertfile": rabbit.certs.other_ca}))
    assert p.returncode == 1, p.stdout
    # RabbitMQ sends its CA with the chain: OpenSSL's reason names the untrusted root.
    assert "TLS: certificate verify failed: self-signed certificate in certificate chain" \
        in p.output
    assert time.monotonic() - t < 20


def test_system_cas_do_not_trust_the_test_ca(perf, rabbit):
    p = run_perf(perf, rabbit.tls_url())
    assert p.returncode == 1, p.stdout
    assert "certificate verify failed" in p.output


def test_hostname_mismatch(perf, rabbit):
    p = run_perf(perf, rabbit.tls_url(
        host="127.0.0.1", query=ca_query(rabbit, server_name_indication="wrong.example")))
    assert p.returncode == 1, p.stdout
    assert ("certificate verify failed: hostname mismatch (the server's certificate is not "
            "valid for 'wrong.example')") in p.output


def test_plaintext_client_on_the_tls_port_fails_in_bounded_time(perf, rabbit):
    t = time.monotonic()
    p = run_perf(perf, "amqp://guest:guest@127.0.0.1:%d/?connection_timeout=5000" % rabbit.tls_port)
    assert p.returncode == 1, p.stdout
    assert time.monotonic() - t < 40, p.stderr


def test_tls_client_on_the_plaintext_port(perf, rabbit):
    p = run_perf(perf, "amqps://guest:guest@localhost:%d/?cacertfile=%s"
                 % (rabbit.port, rabbit.certs.ca))
    assert p.returncode == 1, p.stdout
    assert "the peer does not speak TLS" in p.output


def test_external_with_a_client_certificate(perf, rabbit):
    c = rabbit.certs
    uri = rabbit.tls_url(user="nobody", password="wrong", query=ca_query(
        rabbit, certfile=c.client_cert, keyfile=c.client_key, auth_mechanism="external"))
    assert_perf_ok(run_perf(perf, uri))
    # Without the certificate the server has no identity to take: refused.
    p = run_perf(perf, rabbit.tls_url(query=ca_query(rabbit, auth_mechanism="external")))
    assert p.returncode == 1, p.stdout
    assert "ACCESS_REFUSED" in p.output or "EXTERNAL" in p.output, p.stderr


def test_publish_listen_round_trip_over_amqps(rabbit):
    uri = rabbit.tls_url(query=ca_query(rabbit))
    exchange = "exchange/guest/tls-%s" % uuid.uuid4().hex[:8]
    c = rabbit.connect()
    c.channel().exchange_declare(exchange, "topic", durable=True)
    c.close()
    lst = Listener(uri, ["--exchange", exchange, "--topic", "#", "--count", "3"])
    try:
        line = lst.wait_listening()
        assert line.endswith("(localhost:%d)" % rabbit.tls_port), line
        rc, counts, p = publish(uri, exchange, "tls.test", numbered([1, 2, 3]))
        assert rc == 0 and counts == (3, 3, 0), p.describe()
        lst.wait_numbers([1, 2, 3])
        assert lst.wait_exit(TIMEOUT) == 0, lst.describe()
    finally:
        lst.kill()


def test_listen_wrong_ca_exits_1(rabbit):
    uri = rabbit.tls_url(query={"cacertfile": rabbit.certs.other_ca})
    lst = Listener(uri, ["--exchange", "exchange/guest/tls-none"])
    try:
        assert lst.wait_exit(TIMEOUT) == 1, lst.describe()
        assert any("certificate verify failed" in e for e in lst.err), lst.describe()
    finally:
        lst.kill()
