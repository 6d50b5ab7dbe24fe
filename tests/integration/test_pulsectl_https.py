"""pulsectl over https:// (issue 13) against the management API's HTTPS listener of a private
RabbitMQ node: --cacert, host name verification (a certificate issued for "localhost" only,
reached as 127.0.0.1), rabbitmqadmin's option names, and the failures a user must be able to
act on (unknown CA, host mismatch, a plaintext port, an unreadable --cacert), with pulsectl's
exit statuses (tools/pulsectl/exit_codes.h: 69 when no trusted HTTP answer came, 2 usage).

pulsed_only: it starts its own nodes (a private RabbitMQ node and a pulsed with management.ssl.*),
so one run covers both."""
import json
import os
import subprocess

import pytest

from harness.broker import HOST, PulsedBroker, RabbitBroker, built_tool, free_port
from harness.certs import _leaf, certs

pytestmark = pytest.mark.pulsed_only

HTTPS_TARGETS = ["rabbitmq", "pulsed"]


def dns_only_certificate():
    """A server certificate of the harness CA for DNS:localhost only (no IP address SAN)."""
    c = certs()
    path = os.path.join(c.dir, "mgmt-localhost.pem")
    if not os.path.exists(path):
        _leaf(c.dir, "mgmt-localhost", "ca", "localhost", san="DNS:localhost")
        for f in ("mgmt-localhost.pem", "mgmt-localhost.key"):
            os.chmod(os.path.join(c.dir, f), 0o644)
    return path, os.path.join(c.dir, "mgmt-localhost.key")


@pytest.fixture(scope="module", params=HTTPS_TARGETS)
def node(request):
    cert, key = dns_only_certificate()
    if request.param == "rabbitmq":
        b = RabbitBroker(https=True, config={"management.ssl.certfile": cert,
                                             "management.ssl.keyfile": key})
        b.start()
    else:
        port = free_port()
        c = certs()
        b = PulsedBroker({"management.ssl.ip": HOST, "management.ssl.port": port,
                          "management.ssl.cacertfile": c.ca, "management.ssl.certfile": cert,
                          "management.ssl.keyfile": key})
        b.start()
        b.https_port, b.certs = port, c
        b.https_url = lambda host="localhost": "https://%s:%d" % (host, port)
    yield b
    b.stop(check=False)


@pytest.fixture(scope="module")
def binary():
    return built_tool("PULSECTL_BIN", "pulsectl")


def run(binary, url, *args, env=None):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PULSECTL_")}
    full_env.update(env or {})
    return subprocess.run([binary, "--url", url, "-u", "guest", "-p", "guest"] + list(args),
                          capture_output=True, text=True, timeout=60, env=full_env)


def ok(p):
    assert p.returncode == 0, "rc=%d\nstdout:\n%s\nstderr:\n%s" % (p.returncode, p.stdout,
                                                                  p.stderr)
    return p


def failure(p, rc):
    assert p.returncode == rc, "rc=%d (expected %d)\nstdout:\n%s\nstderr:\n%s" % (
        p.returncode, rc, p.stdout, p.stderr)
    assert p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    return lines[0]


def test_status_and_objects_over_https_with_cacert(binary, node):
    url, ca = node.https_url(), node.certs.ca
    s = json.loads(ok(run(binary, url, "--cacert", ca, "--json", "status")).stdout)
    assert s["rabbitmq_version"].startswith("3."), s
    ok(run(binary, url, "--cacert", ca, "declare", "queue", "over-https", "--durable"))
    rows = json.loads(ok(run(binary, url, "--cacert", ca, "--json", "list", "queues",
                             "-c", "name,durable")).stdout)
    assert {"name": "over-https", "durable": True} in rows, rows
    ok(run(binary, url, "--cacert", ca, "delete", "queue", "over-https"))


def test_cacert_from_the_environment_and_rabbitmqadmin_names(binary, node):
    url, ca = node.https_url(), node.certs.ca
    ok(run(binary, url, "list", "vhosts", env={"PULSECTL_CACERT": ca}))
    ok(run(binary, url, "--ssl-ca-cert-file", ca, "list", "vhosts"))


def test_unknown_ca_exits_69_and_says_why(binary, node):
    url = node.https_url()
    err = failure(run(binary, url, "--cacert", node.certs.other_ca, "status"), 69)
    assert err.startswith("pulsectl: cannot reach %s: TLS: certificate verify failed: " % url), err
    # The system's CAs do not know the test CA either.
    err = failure(run(binary, url, "status"), 69)
    assert "TLS: certificate verify failed: " in err, err


def test_host_name_mismatch_exits_69_and_names_the_host(binary, node):
    # The certificate names localhost only; 127.0.0.1 is the same server, not the same name.
    url = node.https_url(host="127.0.0.1")
    err = failure(run(binary, url, "--cacert", node.certs.ca, "status"), 69)
    assert err == ("pulsectl: cannot reach %s: TLS: certificate verify failed: IP address "
                   "mismatch (the server's certificate is not valid for '127.0.0.1')" % url), err
    # rabbitmqadmin's --ssl-disable-hostname-verification: the chain is still checked.
    ok(run(binary, url, "--cacert", node.certs.ca, "--ssl-disable-hostname-verification",
           "list", "vhosts"))
    err = failure(run(binary, url, "--cacert", node.certs.other_ca,
                      "--ssl-disable-hostname-verification", "status"), 69)
    assert "certificate verify failed" in err, err


def test_insecure_skips_verification(binary, node):
    ok(run(binary, node.https_url(host="127.0.0.1"), "-k", "list", "vhosts"))
    ok(run(binary, node.https_url(), "--insecure", "--cacert", node.certs.other_ca,
           "list", "vhosts"))


def test_https_to_the_plaintext_port(binary, node):
    url = "https://localhost:%d" % node.http_port
    err = failure(run(binary, url, "--cacert", node.certs.ca, "status"), 69)
    assert err == ("pulsectl: cannot reach %s: TLS: handshake failed: the server does not "
                   "speak TLS (an http:// port?)" % url), err


def test_http_to_the_tls_port_fails_with_69(binary, node):
    url = "http://localhost:%d" % node.https_port
    err = failure(run(binary, url, "--timeout", "10", "status"), 69)
    assert err.startswith("pulsectl: cannot reach %s: " % url), err


def test_unreadable_cacert_or_half_a_client_certificate_is_a_usage_error(binary, node):
    url = node.https_url()
    err = failure(run(binary, url, "--cacert", "/nonexistent/ca.pem", "status"), 2)
    assert err.startswith("pulsectl: --cacert /nonexistent/ca.pem: cannot load CA "
                          "certificates: "), err
    err = failure(run(binary, url, "--cacert", node.certs.ca, "--cert",
                      node.certs.client_cert, "status"), 2)
    assert err == "pulsectl: --cert and --key go together", err


def test_client_certificate_is_offered(binary, node):
    # The management listener does not ask for one (no verify_peer there): offering it must
    # not break anything.
    c = node.certs
    ok(run(binary, node.https_url(), "--cacert", c.ca, "--cert", c.client_cert,
           "--key", c.client_key, "list", "vhosts"))


def test_nothing_listening_on_an_https_url(binary):
    url = "https://localhost:%d" % free_port()
    err = failure(run(binary, url, "status"), 69)
    assert err == "pulsectl: cannot reach %s: Connection refused" % url, err
