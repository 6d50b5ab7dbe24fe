"""Web-STOMP over TLS (web_stomp.ssl.port with web_stomp.ssl.certfile/keyfile), on pulsed and on
RabbitMQ with rabbitmq_web_stomp configured alike."""
import ssl
import uuid

import pytest

from harness.amqps import PulsedTlsBroker
from harness.broker import HOST, RabbitBroker, free_port
from harness.certs import certs
from harness.web_stomp import WsStomp


@pytest.fixture(scope="module", params=["pulsed", "rabbitmq"])
def wss_broker(request):
    port = free_port()
    c = certs()
    conf = {"web_stomp.ssl.port": str(port), "web_stomp.ssl.ip": HOST,
            "web_stomp.ssl.certfile": c.server_cert, "web_stomp.ssl.keyfile": c.server_key,
            "web_stomp.ssl.cacertfile": c.ca}
    if request.param == "pulsed":
        b = PulsedTlsBroker(config=conf, external=False).start()
    else:
        b = RabbitBroker(config=conf, tls=True,
                         plugins=["rabbitmq_stomp", "rabbitmq_web_stomp"]).start()
    b.wss_port = port
    yield b
    b.stop()


def test_send_and_receive_over_wss(wss_broker):
    name = "wss-" + uuid.uuid4().hex[:8]
    # The harness certificate names localhost.
    c = WsStomp(0, url="wss://localhost:%d/ws" % wss_broker.wss_port,
                sslopt={"ca_certs": certs().ca, "cert_reqs": ssl.CERT_REQUIRED})
    try:
        assert c.subprotocol == "v12.stomp"
        assert c.connect("guest", "guest", "/")[0] == "CONNECTED"
        c.send("SUBSCRIBE\nid:s\ndestination:/queue/%s\n\n\0"
               "SEND\ndestination:/queue/%s\n\nsecret\0" % (name, name))
        assert c.frame()[2] == b"secret"
    finally:
        c.close()


def test_plain_websocket_on_the_wss_port_fails(wss_broker):
    with pytest.raises(Exception):
        WsStomp(wss_broker.wss_port).close()
