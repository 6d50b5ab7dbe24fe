"""AMQP over TLS (issue 13), the same assertions against pulsed and a private RabbitMQ node
configured alike (listeners.ssl.default, ssl_options.* with verify_peer, EXTERNAL with
ssl_cert_login_from = common_name): pika and kombu over TLS, client certificates and SASL
EXTERNAL with RabbitMQ's refusals, the management API's ssl fields, the C++ tools over amqps://.
Failures, the handshake timeout and SIGHUP reload are in test_amqps_failures.py."""
import re
import ssl
import time
import uuid

import kombu
import pika
import pytest

from harness.amqps import (TlsRaw, add_certificate_user, client_context, delete_user,
                           extra_client_cert, pika_params, start_ok_with, start_tls_broker,
                           wait_connection)
from harness.broker import HOST, built_tool
from harness.http_api import HttpApi
from harness.pulse_tools import Listener, numbered, publish
from harness.raw_amqp import RawConnection

pytestmark = pytest.mark.pulsed_only  # both brokers in the default run, like pulse_target

REFUSED = ("ACCESS_REFUSED - Login was refused using authentication mechanism EXTERNAL. "
           "For details see the broker logfile.")


@pytest.fixture(scope="module", params=["pulsed", "rabbitmq"])
def tb(request):
    b = start_tls_broker(request.param)
    add_certificate_user(b, b.certs.client_user)
    yield b
    b.stop(check=False)


def round_trip(conn):
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.confirm_delivery()
    ch.basic_publish("", q, b"over tls")
    method, _props, body = ch.basic_get(q, auto_ack=True)
    assert body == b"over tls"


def test_pika_over_tls(tb):
    conn = pika.BlockingConnection(pika_params(tb, client_context()))
    try:
        round_trip(conn)
    finally:
        conn.close()


def test_connection_listing_tls13_without_client_certificate(tb):
    conn = pika.BlockingConnection(pika_params(tb, client_context()))
    try:
        port = conn._impl._transport._sock.getsockname()[1]
        c = wait_connection(tb, lambda c: c["peer_port"] == port)
        assert (c["ssl"], c["ssl_protocol"], c["ssl_cipher"], c["ssl_key_exchange"],
                c["ssl_hash"]) == (True, "tlsv1.3", "aes_256_gcm", "any", "aead"), c
        assert (c["peer_cert_subject"], c["peer_cert_issuer"], c["peer_cert_validity"]) == \
            (None, None, None), c
        assert c["port"] == tb.tls_port and c["auth_mechanism"] == "PLAIN"
    finally:
        conn.close()


def test_connection_listing_tls12_with_client_certificate(tb):
    c_ = tb.certs
    ctx = client_context(cert=c_.client_cert, key=c_.client_key, version="tlsv1.2")
    conn = pika.BlockingConnection(pika_params(tb, ctx))
    try:
        port = conn._impl._transport._sock.getsockname()[1]
        c = wait_connection(tb, lambda c: c["peer_port"] == port)
        # The harness keys are EC: an ECDHE-ECDSA AEAD suite.
        assert (c["ssl"], c["ssl_protocol"], c["ssl_key_exchange"], c["ssl_hash"]) == \
            (True, "tlsv1.2", "ecdhe_ecdsa", "aead"), c
        assert c["ssl_cipher"] in ("aes_256_gcm", "aes_128_gcm", "chacha20_poly1305"), c
        assert c["peer_cert_subject"] == "CN=" + c_.client_user
        assert c["peer_cert_issuer"] == "CN=Pulse test CA"
        stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
        assert re.fullmatch(stamp + " - " + stamp, c["peer_cert_validity"]), c
        # A plaintext connection of the same broker says it is not TLS.
        plain = tb.connect()
        try:
            pport = plain._impl._transport._sock.getsockname()[1]
            p = wait_connection(tb, lambda c: c["peer_port"] == pport)
            assert (p["ssl"], p["ssl_protocol"], p["peer_cert_subject"]) == (False, None, None)
        finally:
            plain.close()
    finally:
        conn.close()


def test_overview_lists_the_amqps_listener(tb):
    listeners = HttpApi(tb).get("/api/overview").json["listeners"]
    assert [(l["protocol"], l["ip_address"], l["port"]) for l in listeners
            if l["protocol"] == "amqp/ssl"] == [("amqp/ssl", HOST, tb.tls_port)], listeners


def test_external_with_a_client_certificate(tb):
    c_ = tb.certs
    ctx = client_context(cert=c_.client_cert, key=c_.client_key)
    conn = pika.BlockingConnection(pika_params(tb, ctx, pika.credentials.ExternalCredentials()))
    try:
        round_trip(conn)
        port = conn._impl._transport._sock.getsockname()[1]
        c = wait_connection(tb, lambda c: c["peer_port"] == port)
        assert (c["user"], c["auth_mechanism"]) == (c_.client_user, "EXTERNAL"), c
    finally:
        conn.close()


def test_mechanisms_offered_on_tls_and_plaintext(tb):
    # RabbitMQ offers in its registry's order, not auth_mechanisms' (PLAIN, AMQPLAIN, EXTERNAL),
    # and EXTERNAL only on TLS connections. PLAIN is then accepted (tune); the connection is
    # dropped there rather than waiting out the broker's handshake timeout. The registry's order
    # is the one most nodes show, not a fixed one (a node in CI offered "AMQPLAIN EXTERNAL
    # PLAIN"): pulsed offers that order, RabbitMQ is only held to the same set.
    for raw, expected in ((TlsRaw(tb.tls_port, client_context()), "PLAIN EXTERNAL AMQPLAIN"),
                          (RawConnection(HOST, tb.port), "PLAIN AMQPLAIN")):
        try:
            fr = raw.handshake(open_vhost=False)
            offered = raw.start.mechanisms.decode()
            if tb.target == "rabbitmq":
                assert sorted(offered.split()) == sorted(expected.split())
            else:
                assert offered == expected
            assert isinstance(fr.method, pika.spec.Connection.Tune), fr
        finally:
            raw.close()


def test_external_without_a_client_certificate_is_refused(tb):
    _offered, seen, elapsed = start_ok_with(TlsRaw(tb.tls_port, client_context()), "EXTERNAL")
    assert [(f.method.reply_code, f.method.reply_text) for f in seen] == [(403, REFUSED)]


def test_external_for_an_unknown_user_is_refused(tb):
    cert, key = extra_client_cert("stranger", "no-such-user")
    raw = TlsRaw(tb.tls_port, client_context(cert=cert, key=key))
    _offered, seen, _ = start_ok_with(raw, "EXTERNAL")
    assert [(f.method.reply_code, f.method.reply_text) for f in seen] == [(403, REFUSED)]


def test_external_for_a_deleted_user_is_refused(tb):
    name = "tls-" + uuid.uuid4().hex[:8]
    add_certificate_user(tb, name)
    cert, key = extra_client_cert(name, name)
    ctx = client_context(cert=cert, key=key)
    conn = pika.BlockingConnection(pika_params(tb, ctx, pika.credentials.ExternalCredentials()))
    conn.close()
    delete_user(tb, name)
    _offered, seen, _ = start_ok_with(TlsRaw(tb.tls_port, ctx), "EXTERNAL")
    assert [(f.method.reply_code, f.method.reply_text) for f in seen] == [(403, REFUSED)]


def test_external_on_plaintext_closes_silently(tb):
    # Not offered there: an error before tune-ok, so no close frame, the socket goes after
    # RabbitMQ's 3 s SILENT_CLOSE_DELAY.
    _offered, seen, elapsed = start_ok_with(RawConnection(HOST, tb.port), "EXTERNAL")
    assert seen == [] and 2 <= elapsed < 8, (seen, elapsed)


def test_pika_external_refused_without_certificate(tb):
    params = pika_params(tb, client_context(), pika.credentials.ExternalCredentials())
    with pytest.raises(pika.exceptions.AMQPConnectionError) as e:
        pika.BlockingConnection(params)
    assert "ACCESS_REFUSED" in str(e.value)


def test_kombu_over_tls(tb):
    url = "amqps://guest:guest@localhost:%d//" % tb.tls_port
    ssl_opts = {"ca_certs": tb.certs.ca, "cert_reqs": ssl.CERT_REQUIRED,
                "server_hostname": "localhost"}
    name = "kombu-tls-" + uuid.uuid4().hex[:8]
    with kombu.Connection(url, ssl=ssl_opts, connect_timeout=10) as conn:
        queue = kombu.Queue(name, exchange=kombu.Exchange(name, "topic"), routing_key="a.#",
                            auto_delete=True)
        with conn.Producer() as producer:
            producer.publish({"n": 1}, exchange=queue.exchange, routing_key="a.b",
                             declare=[queue], serializer="json")
        got = []
        with conn.Consumer(queue, callbacks=[lambda body, m: (got.append(body), m.ack())]):
            deadline = time.time() + 10
            while not got and time.time() < deadline:
                conn.drain_events(timeout=10)
        assert got == [{"n": 1}]


def test_pulse_perf_over_amqps(tb):
    perf = built_tool("PULSE_PERF_BIN", "pulse-perf")
    import json
    import subprocess
    uri = tb.tls_url(query={"cacertfile": tb.certs.ca})
    p = subprocess.run([perf, "--uri", uri, "--json", "-x1", "-y1", "-s32", "-a", "-c", "100",
                        "-C", "2000"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    assert s["ok"] and s["sent"] == s["received"] == s["confirmed"] == 2000, s


def test_pulse_publish_listen_over_amqps_with_external(tb):
    c_ = tb.certs
    query = {"cacertfile": c_.ca, "certfile": c_.client_cert, "keyfile": c_.client_key,
             "auth_mechanism": "external"}
    uri = tb.tls_url(user="nobody", password="unused", query=query)
    exchange = "exchange/tls/" + uuid.uuid4().hex[:8]
    conn = tb.connect()
    conn.channel().exchange_declare(exchange, "topic", durable=True)  # as pulse-publish does
    conn.close()
    lst = Listener(uri, ["--exchange", exchange, "--topic", "#", "--count", "3"])
    try:
        lst.wait_listening()
        rc, counts, p = publish(uri, exchange, "tls.test", numbered([1, 2, 3]))
        assert rc == 0 and counts == (3, 3, 0), p.describe()
        lst.wait_numbers([1, 2, 3])
        assert lst.wait_exit(60) == 0, lst.describe()
    finally:
        lst.kill()
        conn = tb.connect()
        conn.channel().exchange_delete(exchange)
        conn.close()


def test_server_close_sends_close_notify(tb):
    # A bad protocol header is answered with the right one and the connection closed: over TLS
    # with close_notify (a clean TLS EOF), not a bare TCP FIN that OpenSSL 3 clients report as
    # "unexpected eof while reading".
    import socket
    import ssl
    ctx = client_context()
    # Python ignores a missing close_notify unless told not to.
    ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
    s = ctx.wrap_socket(socket.create_connection((HOST, tb.tls_port), timeout=10),
                        server_hostname="localhost", suppress_ragged_eofs=False)
    s.sendall(b"XXXXXXXX")
    got = b""
    while True:
        chunk = s.recv(100)  # raises SSLError on a TCP close without close_notify
        if not chunk:
            break
        got += chunk
    assert got == b"AMQP\x00\x00\x09\x01"
    s.close()
