"""Web-STOMP (STOMP over WebSocket) against pulsed and RabbitMQ 3.10 (rabbitmq_web_stomp), one
run: sub-protocols, frames across and within WebSocket messages, text and binary input, the
listener's answers to other requests, the end of a session with its socket, the management
API's view, and messages crossing between AMQP (pika) and Web-STOMP both ways."""
import base64
import http.client
import os
import socket
import time
import uuid

import pika
import pytest
import websocket

from harness.web_stomp import WsStomp, connected, http_get


@pytest.fixture
def name():
    return "wstomp-" + uuid.uuid4().hex[:10]


def test_highest_stomp_subprotocol_is_chosen(pulse_target):
    c = WsStomp(pulse_target.web_stomp_port, subprotocols=["v10.stomp", "v12.stomp", "v11.stomp"])
    try:
        assert c.subprotocol == "v12.stomp"
    finally:
        c.close()
    c = WsStomp(pulse_target.web_stomp_port, subprotocols=["mqtt", "v11.stomp"])
    try:
        assert c.subprotocol == "v11.stomp"
    finally:
        c.close()


def test_no_subprotocol_still_connects(pulse_target):
    c = WsStomp(pulse_target.web_stomp_port, subprotocols=())
    try:
        assert c.subprotocol is None
        cmd, headers, _ = c.connect(pulse_target.user, pulse_target.password, pulse_target.vhost)
        assert cmd == "CONNECTED" and dict(headers)["version"] == "1.2"
    finally:
        c.close()


def test_round_trip_one_frame_per_text_message(pulse_target, name):
    c = connected(pulse_target)
    try:
        c.send("SUBSCRIBE\nid:s1\ndestination:/queue/%s\nreceipt:r1\n\n\0" % name)
        assert c.frame()[0] == "RECEIPT"
        c.send("SEND\ndestination:/queue/%s\ncontent-type:text/plain\n\nhello\0" % name)
        cmd, headers, body = c.frame()
        h = dict(headers)
        assert cmd == "MESSAGE" and body == b"hello"
        assert h["destination"] == "/queue/" + name and h["subscription"] == "s1"
        # Every frame the broker sent came as one text message of its own.
        assert all(op == websocket.ABNF.OPCODE_TEXT for op, _ in c.messages)
        assert [d.count(b"\0") for _, d in c.messages] == [1, 1, 1]
    finally:
        c.close()
        pulse_target.delete(queues=[name])


def test_several_frames_in_one_message_and_one_frame_over_several(pulse_target, name):
    c = connected(pulse_target)
    try:
        c.send("SUBSCRIBE\nid:s1\ndestination:/queue/%s\n\n\0"
               "SEND\ndestination:/queue/%s\n\none\0"
               "SEND\ndestination:/queue/%s\n\ntw" % (name, name, name))
        c.send("o\0")
        bodies = [c.frame()[2] for _ in range(2)]
        assert bodies == [b"one", b"two"]
    finally:
        c.close()
        pulse_target.delete(queues=[name])


def test_binary_messages_are_stomp_input_too(pulse_target, name):
    c = connected(pulse_target)
    try:
        c.send(b"SUBSCRIBE\nid:s1\ndestination:/queue/%s\n\n\0" % name.encode(), binary=True)
        c.send(b"SEND\ndestination:/queue/%s\n\ncaf\xc3\xa9\0" % name.encode(), binary=True)
        assert c.frame()[2] == b"caf\xc3\xa9"
    finally:
        c.close()
        pulse_target.delete(queues=[name])


def test_bad_command_gets_error_and_the_session_goes_on(pulse_target, name):
    c = connected(pulse_target)
    try:
        c.send("BOGUS\n\n\0")
        cmd, headers, _ = c.frame()
        assert cmd == "ERROR" and dict(headers)["message"] == "Bad command"
        c.send("SEND\ndestination:/queue/%s\nreceipt:r\n\nx\0" % name)
        assert c.frame()[0] == "RECEIPT"
    finally:
        c.close()
        pulse_target.delete(queues=[name])


def test_disconnect_closes_the_websocket(pulse_target):
    c = connected(pulse_target)
    try:
        c.send("DISCONNECT\nreceipt:bye\n\n\0")
        # RabbitMQ closes before its RECEIPT leaves (the receipt is lost); pulsed sends it first.
        data = []
        code = None
        while code is None:
            op, payload = c.ws.recv_data(control_frame=True)
            if op == websocket.ABNF.OPCODE_CLOSE:
                code = (int.from_bytes(payload[:2], "big"), payload[2:].decode())
            else:
                data.append(payload)
        assert code == (1000, "STOMP died")
        if pulse_target.name == "pulsed":
            assert data and data[0].startswith(b"RECEIPT\nreceipt-id:bye\n")
    finally:
        c.close()


def test_other_paths_are_not_found(pulse_target):
    status, _ = http_get(pulse_target.web_stomp_port, "/api/overview")
    assert status == 404
    with pytest.raises(websocket.WebSocketBadStatusException) as e:
        WsStomp(pulse_target.web_stomp_port, path="/stomp")
    assert e.value.status_code == 404


def test_plain_get_on_the_websocket_path_is_refused(pulse_target):
    conn = http.client.HTTPConnection("127.0.0.1", pulse_target.web_stomp_port, timeout=10)
    try:
        conn.request("GET", "/ws")
        r = conn.getresponse()
        r.read()
        assert r.status == 426
        assert (r.getheader("connection"), r.getheader("upgrade")) == ("upgrade", "websocket")
    finally:
        conn.close()
    status, _ = http_get(pulse_target.web_stomp_port, "/ws", {
        "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13"})
    assert status == 400  # no Sec-WebSocket-Key


def wait_for(fn, timeout=15):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() > deadline:
            return v
        time.sleep(0.2)


def test_closed_socket_ends_the_session_and_requeues(pulse_target, name):
    with pulse_target.channel() as ch:
        ch.queue_declare(name, durable=True)
        ch.basic_publish("", name, b"m1")
    c = connected(pulse_target)
    c.send("SUBSCRIBE\nid:s1\ndestination:/amq/queue/%s\nack:client\n\n\0" % name)
    assert c.frame()[2] == b"m1"
    api = pulse_target.api()
    path = "/api/queues/%s/%s" % (pulse_target.vhost, name)
    try:
        assert wait_for(lambda: api.get(path).json.get("consumers") == 1)
        c.ws.sock.close()  # no WebSocket close: the TCP connection just goes
        assert wait_for(lambda: api.get(path).json.get("consumers") == 0)
        with pulse_target.channel() as ch:
            m = wait_for(lambda: ch.basic_get(name, auto_ack=True)[2])
            assert m == b"m1"
    finally:
        c.close()
        pulse_target.delete(queues=[name])


def test_listed_in_the_management_api_as_web_stomp(pulse_target):
    c = connected(pulse_target)
    api = pulse_target.api()
    try:
        def mine():
            return [x for x in api.get("/api/connections").json
                    if x.get("protocol", "").startswith("Web STOMP")]
        conns = wait_for(mine)
        assert conns, api.get("/api/connections").json
        assert conns[0]["protocol"] == "Web STOMP 1.2"
        assert conns[0]["user"] == pulse_target.user
        assert conns[0]["vhost"] == pulse_target.vhost
    finally:
        c.close()


def test_amqp_to_web_stomp_and_back(pulse_target, name):
    c = connected(pulse_target)
    try:
        c.send("SUBSCRIBE\nid:t\ndestination:/topic/%s.*\nreceipt:r\n\n\0" % name)
        assert c.frame()[0] == "RECEIPT"
        with pulse_target.channel() as ch:
            ch.basic_publish("amq.topic", name + ".a", b'{"x": 1}',
                             pika.BasicProperties(content_type="application/json",
                                                  headers={"k": "v"}, correlation_id="c1"))
            cmd, headers, body = c.frame()
            h = dict(headers)
            assert cmd == "MESSAGE" and body == b'{"x": 1}'
            assert h["destination"] == "/topic/%s.a" % name
            assert h["content-type"] == "application/json"
            assert h["correlation-id"] == "c1" and h["k"] == "v"
            ch.queue_declare(name, durable=True)
            c.send("SEND\ndestination:/amq/queue/%s\ncontent-type:text/plain\nx-h:1\n"
                   "receipt:s\n\nback\0" % name)
            assert c.frame()[0] == "RECEIPT"
            got = []
            wait_for(lambda: got.append(ch.basic_get(name, auto_ack=True)) or got[-1][0])
            _, props, body = got[-1]
            assert body == b"back"
            # The receipt header goes into the AMQP headers too, as RabbitMQ maps it.
            assert props.content_type == "text/plain"
            assert props.headers == {"x-h": "1", "receipt": "s"}
    finally:
        c.close()
        pulse_target.delete(queues=[name])


def test_ws_on_the_management_listener(pulse_target, name):
    """pulsed also serves Web-STOMP at /ws on its HTTP listener (RabbitMQ has no /ws on 15672);
    the rest of the API is unchanged on the same listener."""
    if pulse_target.name != "pulsed":
        status, _ = http_get(pulse_target.http_port, "/ws")
        assert status == 404
        return
    c = connected(pulse_target, port=pulse_target.http_port)
    try:
        assert c.subprotocol == "v12.stomp"
        c.send("SUBSCRIBE\nid:s\ndestination:/queue/%s\n\n\0"
               "SEND\ndestination:/queue/%s\n\nvia-http\0" % (name, name))
        assert c.frame()[2] == b"via-http"
        assert pulse_target.api().get("/api/overview").status == 200
    finally:
        c.close()
        pulse_target.delete(queues=[name])


def test_connect_in_the_segment_of_the_upgrade_request(pulse_target):
    """A client that does not wait for the 101: its CONNECT frame, written with the upgrade
    request in one send(), is read (pulsed once dropped what its HTTP reader had read past the
    request). On Web-STOMP's listener, and on pulsed's management listener too. pulsed only:
    RabbitMQ's cowboy upgrades or answers 400 Bad Request depending on how the bytes arrive
    (both seen on 3.10.8), and RFC 6455 has the client wait for the 101; pulsed reads them."""
    if pulse_target.name != "pulsed":
        pytest.skip("RabbitMQ answers 400 or upgrades depending on how the segment arrives")
    for port in (pulse_target.web_stomp_port, pulse_target.http_port):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        try:
            key = base64.b64encode(os.urandom(16)).decode()
            request = ("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                       "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: v12.stomp\r\n\r\n"
                       % (port, key)).encode()
            connect = ("CONNECT\naccept-version:1.2\nhost:%s\nlogin:%s\npasscode:%s\n\n\0"
                       % (pulse_target.vhost, pulse_target.user, pulse_target.password)).encode()
            mask = os.urandom(4)
            frame = (bytes([0x81, 0x80 | len(connect)]) + mask
                     + bytes(c ^ mask[i % 4] for i, c in enumerate(connect)))
            s.sendall(request + frame)
            data = b""
            while not (b"\r\n\r\n" in data and b"\0" in data.split(b"\r\n\r\n", 1)[1]):
                chunk = s.recv(65536)
                assert chunk, "closed after %r" % data
                data += chunk
            head, rest = data.split(b"\r\n\r\n", 1)
            assert head.startswith(b"HTTP/1.1 101 "), head
            # One unmasked text frame from the server: CONNECTED.
            assert rest[0] == 0x81, rest
            start = 2 if rest[1] < 126 else 4
            assert rest[start:].startswith(b"CONNECTED\n"), (port, rest)
        finally:
            s.close()


def test_listeners_in_the_overview(pulse_target):
    listeners = pulse_target.api().get("/api/overview").json["listeners"]
    web = [x for x in listeners if x["protocol"] == "http/web-stomp"]
    assert [x["port"] for x in web] == [pulse_target.web_stomp_port]
