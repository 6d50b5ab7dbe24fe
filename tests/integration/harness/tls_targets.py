"""Brokers with an AMQPS listener for the TLS client tests: a private RabbitMQ node, and pulsed
once its build has an AMQPS listener (`pulsed --help` lists --amqps-listen). Tests parametrise
over TLS_TARGETS; a pulsed without the listener is skipped with that reason, so the pulsed
column runs by itself as soon as the server side is merged."""
import functools
import subprocess
import time

import pytest

from harness.broker import HOST, PulsedBroker, RabbitBroker, _port_open, free_port, pulsed_binary
from harness.http_api import HttpApi, q

TLS_TARGETS = ["rabbitmq", "pulsed"]

NO_AMQPS = "pulsed has no AMQPS listener in this build (no --amqps-listen in pulsed --help)"


@functools.lru_cache(maxsize=None)
def pulsed_has_amqps():
    p = subprocess.run([pulsed_binary(), "--help"], capture_output=True, text=True, timeout=30)
    return "--amqps-listen" in p.stdout + p.stderr


class PulsedTlsBroker(PulsedBroker):
    """pulsed with an AMQPS listener configured as in rabbitmq.conf (listeners.ssl.default,
    ssl_options.*) and the harness certificates; the same attributes as RabbitBroker(tls=...)."""

    def __init__(self, config=None, tls_external=False):
        from harness.certs import certs
        super().__init__(config)
        self.certs = certs()
        self.tls_external = tls_external
        self.tls_port = free_port()
        tls = {
            "listeners.ssl.default": "%s:%d" % (HOST, self.tls_port),
            "ssl_options.cacertfile": self.certs.ca,
            "ssl_options.certfile": self.certs.server_cert,
            "ssl_options.keyfile": self.certs.server_key,
            "ssl_options.verify": "verify_peer",
            "ssl_options.fail_if_no_peer_cert": "false",
        }
        if tls_external:
            tls.update({"auth_mechanisms.1": "PLAIN", "auth_mechanisms.2": "AMQPLAIN",
                        "auth_mechanisms.3": "EXTERNAL", "ssl_cert_login_from": "common_name"})
        tls.update(self.config)
        self.config = tls

    def start(self, *args, **kw):
        super().start(*args, **kw)
        deadline = time.time() + 10
        while not _port_open(self.tls_port):
            if time.time() > deadline:
                raise RuntimeError("pulsed's AMQPS listener did not open\n%s" % self.log_tail())
            time.sleep(0.05)
        return self

    tls_url = RabbitBroker.tls_url


def tls_broker(target, tls_external=False):
    """A started broker of `target` with an AMQPS listener (skips pulsed without one)."""
    if target == "pulsed":
        if not pulsed_has_amqps():
            pytest.skip(NO_AMQPS)
        return PulsedTlsBroker(tls_external=tls_external).start()
    return RabbitBroker(tls_external=tls_external).start()


def add_certificate_user(broker, name):
    """A user without a password (it logs in with its client certificate: EXTERNAL) with full
    permissions on "/", through the management API (both targets)."""
    api = HttpApi(broker)
    r = api.put("/api/users/%s" % q(name), {"password_hash": "", "tags": ""})
    assert r.status in (201, 204), r
    r = api.put("/api/permissions/%%2F/%s" % q(name),
                {"configure": ".*", "write": ".*", "read": ".*"})
    assert r.status in (201, 204), r
