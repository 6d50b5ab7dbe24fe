"""AMQPS brokers for test_amqps*.py: pulsed with listeners.ssl / ssl_options.* in its config file,
and a private RabbitMQ node (RabbitBroker(tls=...)) configured alike, so the same assertions run
against both. Also raw AMQP over TLS and extra client certificates made with the harness CA."""
import os
import socket
import ssl
import time

import pika

from harness.broker import HOST, PulsedBroker, RabbitBroker, _port_open, free_port
from harness.certs import _leaf, certs
from harness.http_api import HttpApi, q
from harness.raw_amqp import PROTOCOL_HEADER, RawConnection
from pika import spec


def tls_config(tls_port, external=True, strict=False):
    """rabbitmq.conf lines for an AMQPS listener with the harness certificates; strict adds
    fail_if_no_peer_cert; external offers EXTERNAL (user = the certificate's CN)."""
    c = certs()
    conf = {
        "listeners.ssl.default": "%s:%d" % (HOST, tls_port),
        "ssl_options.cacertfile": c.ca,
        "ssl_options.certfile": c.server_cert,
        "ssl_options.keyfile": c.server_key,
        "ssl_options.verify": "verify_peer",
        "ssl_options.fail_if_no_peer_cert": "true" if strict else "false",
    }
    if external:
        conf.update({"auth_mechanisms.1": "PLAIN", "auth_mechanisms.2": "AMQPLAIN",
                     "auth_mechanisms.3": "EXTERNAL", "ssl_cert_login_from": "common_name"})
    return conf


class PulsedTlsBroker(PulsedBroker):
    """pulsed with an AMQPS listener on tls_port (listeners.ssl.default in its config)."""

    def __init__(self, config=None, external=True, strict=False, **kw):
        super().__init__(**kw)
        self.certs = certs()
        self.tls_port = free_port()
        self.config = dict(tls_config(self.tls_port, external, strict), **(config or {}))

    def start(self, *args, **kw):
        super().start(*args, **kw)
        deadline = time.time() + 10
        while not _port_open(self.tls_port):
            if time.time() > deadline:
                raise RuntimeError("pulsed's AMQPS listener did not open\n%s" % self.log_tail())
            time.sleep(0.05)
        return self

    tls_url = RabbitBroker.tls_url

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()


def start_tls_broker(target, external=True, strict=False, config=None):
    if target == "pulsed":
        return PulsedTlsBroker(config=config, external=external, strict=strict).start()
    conf = dict(config or {})
    if strict:
        conf["ssl_options.fail_if_no_peer_cert"] = "true"
    b = RabbitBroker(config=conf, tls=True, tls_external=external)
    return b.start()


def client_context(ca=None, cert=None, key=None, version=None):
    ctx = ssl.create_default_context(cafile=ca or certs().ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    if version == "tlsv1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def pika_params(broker, ctx, credentials=None, **kw):
    kw.setdefault("connection_attempts", 1)
    kw.setdefault("socket_timeout", 10)
    return pika.ConnectionParameters(
        host=HOST, port=broker.tls_port, ssl_options=pika.SSLOptions(ctx, "localhost"),
        credentials=credentials or pika.PlainCredentials("guest", "guest"), **kw)


def extra_client_cert(name, cn, ca="ca", expired=False):
    """A client certificate (clientAuth) with CN `cn` signed by the harness CA `ca` ("ca" or
    "other-ca"), made once per test process: returns (cert, key)."""
    d = certs().dir
    path = os.path.join(d, name + ".pem")
    if not os.path.exists(path):
        _leaf(d, name, ca, cn, client=True, expired=expired)
        if expired:
            time.sleep(1.1)  # notAfter == notBefore == now: expired a second later
    return path, os.path.join(d, name + ".key")


def add_certificate_user(broker, name):
    """A user without a password and with full permissions on "/" (management API)."""
    api = HttpApi(broker)
    r = api.put("/api/users/%s" % q(name), {"password_hash": "", "tags": ""})
    assert r.status in (201, 204), r
    r = api.put("/api/permissions/%%2F/%s" % q(name),
                {"configure": ".*", "write": ".*", "read": ".*"})
    assert r.status in (201, 204), r


def delete_user(broker, name):
    HttpApi(broker).request("DELETE", "/api/users/%s" % q(name))


class TlsRaw(RawConnection):
    """RawConnection over TLS (server name localhost, the harness CA)."""

    def __init__(self, port, ctx, timeout=10):
        self.sock = ctx.wrap_socket(socket.create_connection((HOST, port), timeout=timeout),
                                    server_hostname="localhost")
        self.buf = b""
        self.start = None
        self.tune = None


def start_ok_with(raw, mechanism, response=b""):
    """Sends the header and start-ok with `mechanism` (announcing authentication_failure_close);
    returns (mechanisms offered, frames until EOF, seconds until EOF)."""
    raw.send_raw(PROTOCOL_HEADER)
    start = raw.recv_method().method
    raw.send_method(0, spec.Connection.StartOk(
        client_properties={"capabilities": {"authentication_failure_close": True}},
        mechanism=mechanism, response=response, locale="en_US"))
    seen, elapsed = raw.wait_closed(10)
    return start.mechanisms.decode(), seen, elapsed


def wait_connection(broker, pred, timeout=20):
    """The first /api/connections entry matching pred (RabbitMQ lists a connection once its
    stats were emitted, within 5 s)."""
    api = HttpApi(broker)
    deadline = time.time() + timeout
    while True:
        r = api.get("/api/connections")
        for c in r.json or []:
            if pred(c):
                return c
        if time.time() > deadline:
            raise AssertionError("no matching connection in %r" % r.json)
        time.sleep(0.5)
