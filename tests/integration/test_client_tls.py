"""The C++ client and its tools over TLS (issue 13): pulse-perf, pulse-publish and pulse-listen
with amqps:// against a broker with a TLS listener and the harness's certificates
(harness/certs.py): CA verification, hostname verification and SNI, verify_none, SASL EXTERNAL
with a client certificate, Pulse endpoints without a scheme (TLS by default, as mozillapulse),
and the failure cases (wrong CA, wrong host name, plaintext client on the TLS port, TLS client
on the plaintext port).

Each test runs against a private RabbitMQ node and against pulsed (TLS_TARGETS), both with an
AMQPS listener configured alike (harness/amqps.py).
pulsed_only: under PULSE_TEST_TARGET=rabbitmq the suite would only run the same tests again."""
import json
import subprocess
import time
import uuid

import pytest

from harness.broker import built_tool
from harness.http_api import HttpApi, q
from harness.pulse_tools import Listener, Publisher, numbered, publish
from harness.amqps import add_certificate_user, start_tls_broker

pytestmark = pytest.mark.pulsed_only

TIMEOUT = 60
TLS_TARGETS = ["rabbitmq", "pulsed"]


@pytest.fixture(scope="module", params=TLS_TARGETS)
def rabbit(request):
    """The broker under test (named for the first target; see TLS_TARGETS)."""
    b = start_tls_broker(request.param, external=True)
    add_certificate_user(b, b.certs.client_user)
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
    assert "TLS: certificate verify failed: " in p.output
    if rabbit.target == "rabbitmq":
        # RabbitMQ sends its CA with the chain: OpenSSL's reason names the untrusted root.
        assert "self-signed certificate in certificate chain" in p.output
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


def test_perf_over_amqps_many_connections_and_large_bodies(perf, rabbit):
    # Two producers and two consumers (four TLS sessions) and 256 KiB bodies: records span
    # many writes, so partial TLS writes and reads are exercised, not only one-record frames.
    p = subprocess.run([perf, "--uri", rabbit.tls_url(query=ca_query(rabbit)), "--json",
                        "-x2", "-y2", "-s262144", "-a", "-c", "50", "-C", "200"],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    assert s["ok"] and s["verified"], s
    assert s["sent"] == s["received"] == s["confirmed"] == 400, s


def test_perf_with_a_client_certificate_and_plain(perf, rabbit):
    # A client certificate offered with a PLAIN login: the server checks it (verify_peer) and
    # the password logs in.
    c = rabbit.certs
    assert_perf_ok(run_perf(perf, rabbit.tls_url(query=ca_query(
        rabbit, certfile=c.client_cert, keyfile=c.client_key))))


def declare_exchange(rabbit, prefix):
    exchange = "exchange/guest/%s-%s" % (prefix, uuid.uuid4().hex[:8])
    c = rabbit.connect()
    c.channel().exchange_declare(exchange, "topic", durable=True)
    c.close()
    return exchange


def round_trip(uri, exchange, numbers, listen_args=()):
    lst = Listener(uri, ["--exchange", exchange, "--topic", "#", "--count", str(len(numbers))]
                   + list(listen_args))
    try:
        line = lst.wait_listening()
        rc, counts, p = publish(uri, exchange, "tls.test", numbered(numbers))
        assert rc == 0 and counts == (len(numbers), len(numbers), 0), p.describe()
        lst.wait_numbers(numbers)
        assert lst.wait_exit(TIMEOUT) == 0, lst.describe()
        return line
    finally:
        lst.kill()


def test_publish_listen_with_external_and_a_client_certificate(rabbit):
    c = rabbit.certs
    uri = rabbit.tls_url(user=c.client_user, password="", query=ca_query(
        rabbit, certfile=c.client_cert, keyfile=c.client_key, auth_mechanism="external"))
    # The certificate's user owns its Pulse namespace.
    exchange = "exchange/%s/tls-%s" % (c.client_user, uuid.uuid4().hex[:8])
    conn = rabbit.connect()
    conn.channel().exchange_declare(exchange, "topic", durable=True)
    conn.close()
    round_trip(uri, exchange, [1, 2, 3, 4], ["--user", c.client_user])


def test_publish_listen_with_verify_none(rabbit):
    uri = rabbit.tls_url(query={"verify": "verify_none"})
    round_trip(uri, declare_exchange(rabbit, "tls-vnone"), [7, 8])


def test_a_pulse_endpoint_without_a_scheme_is_tls(rabbit):
    # mozillapulse's way of naming the broker: user:pass@host (TLS unless told otherwise; the
    # port here because 5671 is not ours to use in tests).
    bare = "guest:guest@localhost:%d/?cacertfile=%s" % (rabbit.tls_port, rabbit.certs.ca)
    line = round_trip(bare, declare_exchange(rabbit, "tls-bare"), [1, 2])
    assert line.endswith("(localhost:%d)" % rabbit.tls_port), line
    # The same endpoint on the plaintext port fails as TLS would: it was not read as amqp://.
    # (Not a setup error: pulse-listen keeps retrying, as for any peer that hangs up.)
    lst = Listener("guest:guest@localhost:%d/?cacertfile=%s" % (rabbit.port, rabbit.certs.ca),
                   ["--exchange", "exchange/guest/none"])
    try:
        lst.wait_stderr("pulse-listen: cannot connect to localhost:%d: TLS: handshake failed: "
                        "the peer does not speak TLS" % rabbit.port, timeout=TIMEOUT)
    finally:
        lst.kill()


def test_publish_recovers_a_force_closed_tls_connection(rabbit):
    # pulse-publish's TLS connection is force-closed through the management API (320): the
    # tool reports the loss, reconnects over TLS and every message is confirmed.
    uri = rabbit.tls_url(query=ca_query(rabbit))
    exchange = declare_exchange(rabbit, "tls-cut")
    pub = Publisher(uri, exchange, "tls.cut")
    try:
        pub.write(numbered([1]))
        api = HttpApi(rabbit)
        deadline = time.monotonic() + 30
        names = []
        while not names and time.monotonic() < deadline:
            names = [c["name"] for c in api.get("/api/connections").json or []
                     if c.get("client_properties", {}).get("connection_name")
                     == "pulse publisher"]
            time.sleep(0.2)
        assert names, "no connection of pulse-publish seen"
        for n in names:
            api.delete("/api/connections/%s" % q(n))
        pub.wait_stderr("pulse-publish: connection lost: ", timeout=TIMEOUT)
        pub.write(numbered([2, 3]))
        rc, counts = pub.finish(TIMEOUT)
        assert rc == 0 and counts == (3, 3, 0), pub.describe()
    finally:
        pub.kill()
