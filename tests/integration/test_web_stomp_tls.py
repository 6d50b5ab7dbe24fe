"""Web-STOMP over TLS (web_stomp.ssl.port with web_stomp.ssl.certfile/keyfile), on pulsed and on
RabbitMQ with rabbitmq_web_stomp configured alike."""
import os
import shutil
import signal
import ssl
import uuid

import pytest

from harness.amqps import PulsedTlsBroker
from harness.broker import HOST, RabbitBroker, free_port
from harness.certs import certs
from harness.https import new_server_cert, wait_log
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


def _wss(port):
    return WsStomp(0, url="wss://localhost:%d/ws" % port,
                   sslopt={"ca_certs": certs().ca, "cert_reqs": ssl.CERT_REQUIRED})


def _serial(c):
    return c.ws.sock.getpeercert()["serialNumber"]


@pytest.mark.pulsed_only  # RabbitMQ reloads with rabbitmqctl eval 'ssl:clear_pem_cache().'
def test_sighup_reloads_the_wss_certificate_and_open_sessions_go_on(tmp_path):
    c = certs()
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    shutil.copy(c.server_cert, cert)
    shutil.copy(c.server_key, key)
    port = free_port()
    b = PulsedTlsBroker(config={"web_stomp.ssl.port": str(port), "web_stomp.ssl.ip": HOST,
                                "web_stomp.ssl.certfile": cert, "web_stomp.ssl.keyfile": key,
                                "web_stomp.ssl.cacertfile": c.ca}, external=False).start()
    kept = None
    try:
        kept = _wss(port)
        assert kept.connect("guest", "guest", "/")[0] == "CONNECTED"
        old = _serial(kept)

        new_cert, new_key = new_server_cert("wss-reload-%d" % os.getpid())
        shutil.copy(new_cert, cert)
        shutil.copy(new_key, key)
        os.kill(b.pid, signal.SIGHUP)
        wait_log(b, "TLS certificate of web_stomp.ssl reloaded")
        fresh = _wss(port)
        try:
            assert _serial(fresh) != old
            assert fresh.connect("guest", "guest", "/")[0] == "CONNECTED"
        finally:
            fresh.close()

        # The session opened before the reload goes on with its certificate.
        name = "wss-kept-" + uuid.uuid4().hex[:8]
        kept.send("SUBSCRIBE\nid:s\ndestination:/queue/%s\n\n\0"
                  "SEND\ndestination:/queue/%s\n\nstill here\0" % (name, name))
        assert kept.frame()[2] == b"still here"
        assert _serial(kept) == old

        # A broken file: the loaded certificate stays in use.
        with open(cert, "w") as f:
            f.write("not a certificate\n")
        os.kill(b.pid, signal.SIGHUP)
        wait_log(b, "TLS certificate of web_stomp.ssl not reloaded")
        again = _wss(port)
        try:
            assert _serial(again) != old
            assert again.connect("guest", "guest", "/")[0] == "CONNECTED"
        finally:
            again.close()
    finally:
        if kept:
            kept.close()
        b.stop(check=False)
