"""STOMP over TLS (stomp.listeners.ssl.1 with ssl_options.*), on pulsed and on RabbitMQ with
rabbitmq_stomp configured alike."""
import socket
import uuid

import pytest
import stomp

from harness.amqps import PulsedTlsBroker
from harness.broker import HOST, RabbitBroker, free_port
from harness.certs import certs
from harness.https import wait_port
from harness.stomp_helpers import Collector, close


@pytest.fixture(scope="module", params=["pulsed", "rabbitmq"])
def tls_broker(request):
    port = free_port()
    conf = {"stomp.listeners.ssl.1": "%s:%d" % (HOST, port)}
    if request.param == "pulsed":
        b = PulsedTlsBroker(config=conf, external=False).start()
    else:
        b = RabbitBroker(config=conf, tls=True, plugins=["rabbitmq_stomp"]).start()
    b.stomps_port = port
    # Ready means the AMQP listener for the harness; the STOMP one may follow a moment later.
    wait_port(port)
    yield b
    b.stop()


def test_send_and_receive_over_tls(tls_broker):
    # The harness certificate names localhost.
    c = stomp.Connection12([("localhost", tls_broker.stomps_port)], auto_decode=False, vhost="/")
    c.set_ssl(for_hosts=[("localhost", tls_broker.stomps_port)], ca_certs=certs().ca)
    col = Collector()
    c.set_listener("c", col)
    c.connect("guest", "guest", wait=True)
    name = "tls-" + uuid.uuid4().hex[:8]
    try:
        c.subscribe("/queue/" + name, id="s", headers={"receipt": "r"})
        assert col.receipt() == "r"
        c.send("/queue/" + name, b"secret")
        assert col.message().body == b"secret"
    finally:
        close(c)


def test_plaintext_client_on_the_tls_port_is_closed(tls_broker):
    s = socket.create_connection((HOST, tls_broker.stomps_port), timeout=10)
    try:
        s.sendall(b"CONNECT\naccept-version:1.2\nlogin:guest\npasscode:guest\n\n\0")
        data = s.recv(4096)
        assert not data.startswith(b"CONNECTED")
    except ConnectionResetError:
        pass
    finally:
        s.close()
