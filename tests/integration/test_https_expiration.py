"""/api/health/checks/certificate-expiration/{within}/{unit} over the node's TLS listeners
(issue 13): RabbitMQ 3.10's argument errors, its per-listener fields and date format for the
AMQPS listener (checked against a private RabbitMQ node with PULSE_TEST_TARGET=rabbitmq), and
pulsed's coverage of the HTTPS listeners too (RabbitMQ 3.10 does not look at those)."""
import json
import subprocess
import time

import pytest

from harness.broker import free_port
from harness.certs import certs
from harness.https import https_get, listeners, ssl_block, start_broker, wait_port


@pytest.fixture(scope="module")
def node():
    c = certs()
    port = free_port()
    b = start_broker(ssl_block("management", port, c.server_cert, c.server_key, c.ca))
    b.https_port = port
    wait_port(port)
    yield b
    b.stop(check=False)


def expiration(port, within, unit):
    status, body, _ = https_get(port, "/api/health/checks/certificate-expiration/%s/%s"
                                % (within, unit))
    return status, json.loads(body)


def test_certificate_expiration_argument_errors(node):
    for within in ("abc", "1.5", "", "+", "1e3", " 1"):
        if within in ("", " 1"):
            continue  # not a path segment a client sends
        assert expiration(node.https_port, within, "days") == (
            400, {"error": "bad_request", "reason": "Invalid expiration value."})
    for unit in ("fortnights", "day", "seconds"):
        assert expiration(node.https_port, 1, unit) == (
            400, {"error": "bad_request",
                  "reason": "Time unit not recognised. Supported units: days, weeks, months, "
                            "years."})
    # The number is checked first.
    assert expiration(node.https_port, "x", "fortnights")[1]["reason"] == \
        "Invalid expiration value."


def not_after_text(path):
    """The notAfter of each certificate in `path` as RabbitMQ prints it ("2027-01-04 8:43:09":
    UTC, the hour not padded)."""
    out = subprocess.run(["openssl", "crl2pkcs7", "-nocrl", "-certfile", path],
                         capture_output=True, text=True, check=True).stdout
    text = subprocess.run(["openssl", "pkcs7", "-print_certs", "-text", "-noout"], input=out,
                          capture_output=True, text=True, check=True).stdout
    dates = []
    for line in text.splitlines():
        if "Not After" in line:
            t = time.strptime(line.split(" : ", 1)[1].strip(), "%b %d %H:%M:%S %Y %Z")
            dates.append("%d-%02d-%02d %d:%02d:%02d" % (t.tm_year, t.tm_mon, t.tm_mday,
                                                        t.tm_hour, t.tm_min, t.tm_sec))
    return dates


def check_entry(entry, protocol, port, certfile, cacertfile, cert_dates, ca_dates):
    assert sorted(entry) == ["cacertfile", "cacertfile_expires_on", "certfile",
                             "certfile_expires_on", "interface", "node", "port", "protocol"]
    assert entry["protocol"] == protocol and entry["port"] == port
    assert entry["interface"] in ("127.0.0.1", "::")
    assert entry["node"]
    assert entry["certfile"] == certfile and entry["cacertfile"] == cacertfile
    assert entry["certfile_expires_on"] == cert_dates
    assert entry["cacertfile_expires_on"] == ca_dates


def assert_amqps_listed(b, mport):
    assert ("amqp/ssl", b.tls_port) in listeners(mport), "no AMQPS listener (listeners.ssl)"


def test_certificate_expiration_of_the_amqps_listener():
    """The check RabbitMQ 3.10 makes: the AMQPS listener's certfile and cacertfile."""
    c = certs()
    mport = free_port()
    b = start_broker(ssl_block("management", mport, c.server_cert, c.server_key, c.ca),
                     amqps=(c.server_cert, c.server_key))
    try:
        wait_port(mport)
        assert_amqps_listed(b, mport)
        # pulsed also checks the management HTTPS listener (same files, so same dates).
        for within, unit in (("1", "days"), ("0", "days"), ("-5", "days"), ("3", "WEEKS"),
                             ("+1", "Days")):
            assert expiration(mport, within, unit) == (200, {"status": "ok"}), (within, unit)
        cert_dates, ca_dates = not_after_text(c.server_cert), not_after_text(c.ca)
        for within, unit in (("31", "days"), ("5", "weeks"), ("2", "months"), ("1", "years"),
                             ("99999999999999999999", "days")):
            status, body = expiration(mport, within, unit)
            assert status == 503, (within, unit, body)
            assert body["status"] == "failed" and body["reason"] == "Certificates expiring"
            amqps = [e for e in body["expired"] if e["protocol"] == "amqp/ssl"]
            assert len(amqps) == 1, body
            check_entry(amqps[0], "amqp/ssl", b.tls_port, c.server_cert, c.ca,
                        cert_dates, ca_dates)
    finally:
        b.stop(check=False)


def test_certificate_expiration_of_an_expired_amqps_certificate():
    c = certs()
    mport = free_port()
    b = start_broker(ssl_block("management", mport, c.server_cert, c.server_key),
                     amqps=(c.expired_cert, c.expired_key))
    try:
        wait_port(mport)
        assert_amqps_listed(b, mport)
        status, body = expiration(mport, 1, "days")
        assert status == 503, body
        assert [e["protocol"] for e in body["expired"]] == ["amqp/ssl"]
        # Only the expired certificate is listed: the CA lives 30 days.
        check_entry(body["expired"][0], "amqp/ssl", b.tls_port, c.expired_cert, c.ca,
                    not_after_text(c.expired_cert), [])
        # Past its expiry (-1 day): nothing expires before then.
        assert expiration(mport, -1, "days") == (200, {"status": "ok"})
    finally:
        b.stop(check=False)


@pytest.mark.pulsed_only  # RabbitMQ 3.10 does not look at its HTTPS listeners' certificates
def test_certificate_expiration_covers_the_https_listeners():
    c = certs()
    mport, pport = free_port(), free_port()
    config = ssl_block("management", mport, c.server_cert, c.server_key, c.ca)
    config.update(ssl_block("prometheus", pport, c.expired_cert, c.expired_key))
    b = start_broker(config)
    try:
        wait_port(mport)
        status, body = expiration(mport, 1, "days")
        assert status == 503, body
        assert body["status"] == "failed" and body["reason"] == "Certificates expiring"
        assert len(body["expired"]) == 1
        # No cacertfile configured: "" (RabbitMQ's own check fails with a 500 there).
        check_entry(body["expired"][0], "https/prometheus", pport, c.expired_cert, "",
                    not_after_text(c.expired_cert), [])
        status, body = expiration(mport, 31, "days")
        assert status == 503
        # The last listener first, as RabbitMQ folds them.
        assert [e["protocol"] for e in body["expired"]] == ["https/prometheus", "https"]
        check_entry(body["expired"][1], "https", mport, c.server_cert, c.ca,
                    not_after_text(c.server_cert), not_after_text(c.ca))
    finally:
        b.stop(check=False)


@pytest.mark.pulsed_only
def test_certificate_expiration_ok_with_a_valid_https_certificate():
    c = certs()
    mport = free_port()
    b = start_broker(ssl_block("management", mport, c.server_cert, c.server_key, c.ca))
    try:
        wait_port(mport)
        assert expiration(mport, 1, "days") == (200, {"status": "ok"})
        assert expiration(mport, 4, "weeks") == (200, {"status": "ok"})
        assert expiration(mport, 31, "days")[0] == 503
    finally:
        b.stop(check=False)
