"""connection.* class: handshake, server properties, auth, tune, close,
heartbeats, limits from broker config."""
import re
import socket
import time

import pika
import pytest
from pika import frame, spec

from harness.amqp_assert import channel_closed, connection_closed
from harness.raw_amqp import PROTOCOL_HEADER, RawConnection

CAPABILITIES = {
    "publisher_confirms": True,
    "exchange_exchange_bindings": True,
    "basic.nack": True,
    "consumer_cancel_notify": True,
    "connection.blocked": True,
    "consumer_priorities": True,
    "authentication_failure_close": True,
    "per_consumer_qos": True,
    "direct_reply_to": True,
}

# One extra broker with tight limits, shared by all tests that need it.
LIMITS = {"heartbeat": 1, "frame_max": 8192, "channel_max": 16,
          "max_message_size": 65536, "handshake_timeout": 2000}


def close_method(fr):
    assert fr is not None, "socket closed without connection.close"
    assert isinstance(fr.method, spec.Connection.Close), fr
    return fr.method


def read_until_eof(sock, timeout=5):
    sock.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = sock.recv(100)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


@pytest.fixture
def raw(broker):
    r = RawConnection(broker.host, broker.port)
    yield r
    r.close()


# ---------------------------------------------------------------- start --

def test_connection_start_server_properties(raw, broker):
    raw.send_raw(PROTOCOL_HEADER)
    fr = raw.recv_method()
    m = fr.method
    assert fr.channel_number == 0
    assert isinstance(m, spec.Connection.Start)
    assert (m.version_major, m.version_minor) == (0, 9)
    assert set(m.mechanisms.split()) >= {b"PLAIN", b"AMQPLAIN"}
    assert m.locales == b"en_US"
    sp = m.server_properties
    assert sp["capabilities"] == CAPABILITIES
    # RabbitMQ says 3.x.y; pulsed gives its own semantic version.
    assert re.match(r"^\d+\.\d+\.\d+", sp["version"]), sp["version"]
    assert isinstance(sp["platform"], str) and sp["platform"]
    assert isinstance(sp["cluster_name"], str) and sp["cluster_name"]
    assert isinstance(sp["product"], str) and sp["product"]
    for k in ("copyright", "information"):
        assert isinstance(sp[k], str)
    if broker.target == "rabbitmq":
        assert sp["product"] == "RabbitMQ"
        assert sp["platform"].startswith("Erlang/OTP")


def test_bad_protocol_header_gets_supported_header_back(raw):
    raw.send_raw(b"AMQP\x01\x01\x00\x0a")  # AMQP 0-10
    assert read_until_eof(raw.sock) == PROTOCOL_HEADER


def test_garbage_header_gets_supported_header_back(raw):
    raw.send_raw(b"GET / HTTP/1.1\r\n\r\n")
    assert read_until_eof(raw.sock) == PROTOCOL_HEADER


# ----------------------------------------------------------------- auth --

@pytest.mark.parametrize("mechanism", ["PLAIN", "AMQPLAIN"])
def test_login_mechanisms(raw, mechanism):
    fr = raw.handshake(mechanism=mechanism)
    assert isinstance(fr.method, spec.Connection.OpenOk)
    assert raw.tune.channel_max == 2047
    assert raw.tune.frame_max == 131072
    assert raw.tune.heartbeat == 60
    # connection usable: open a channel
    raw.send_method(1, spec.Channel.Open())
    fr = raw.recv_method()
    assert fr.channel_number == 1 and isinstance(fr.method, spec.Channel.OpenOk)


@pytest.mark.parametrize("mechanism", ["PLAIN", "AMQPLAIN"])
def test_bad_password_access_refused(raw, mechanism):
    fr = raw.handshake(password="wrong", mechanism=mechanism)
    m = close_method(fr)
    assert m.reply_code == 403
    assert m.reply_text == ("ACCESS_REFUSED - Login was refused using authentication mechanism %s. "
                            "For details see the broker logfile." % mechanism)
    assert (m.class_id, m.method_id) == (0, 0)


def assert_silent_close(raw, fr, t0):
    """RabbitMQ fails pre-open negotiation errors by closing the socket with
    no connection.close frame, after a ~3 s delay (SILENT_CLOSE_DELAY)."""
    assert fr is None, fr
    assert time.time() - t0 < 6


def test_unknown_mechanism_silent_close(raw):
    t0 = time.time()
    fr = raw.handshake(mechanism="CRAM-MD5")
    assert_silent_close(raw, fr, t0)


def test_pika_bad_password(broker):
    with pytest.raises(pika.exceptions.ProbableAuthenticationError) as ei:
        broker.connect(password="definitely-wrong")
    assert "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN" in str(ei.value)


def test_unknown_user(broker):
    with pytest.raises(pika.exceptions.ProbableAuthenticationError) as ei:
        broker.connect(user="no-such-user", password="x")
    assert "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN" in str(ei.value)


def test_guest_from_loopback_ok(broker):
    c = broker.connect("guest", "guest")
    assert c.is_open
    c.close()


def test_definitions_users_can_log_in(broker):
    c = broker.connect("alice", "alice-secret1")
    c.close()
    c = broker.connect("alice", "alice-secret1", vhost="pulse-test")
    c.close()
    c = broker.connect("bob", "bob-secret2")
    c.close()


# --------------------------------------------------------------- vhosts --

def test_open_missing_vhost(raw):
    fr = raw.handshake(vhost="no-such-vhost")
    m = close_method(fr)
    assert m.reply_code == 530
    assert m.reply_text == "NOT_ALLOWED - vhost no-such-vhost not found"
    assert (m.class_id, m.method_id) == (10, 40)


def test_open_unpermitted_vhost(raw):
    fr = raw.handshake(user="bob", password="bob-secret2", vhost="pulse-test")
    m = close_method(fr)
    assert m.reply_code == 530
    assert m.reply_text == "NOT_ALLOWED - access to vhost 'pulse-test' refused for user 'bob'"
    assert (m.class_id, m.method_id) == (10, 40)


def test_nobody_has_no_vhost(broker):
    with pytest.raises(pika.exceptions.ProbableAccessDeniedError) as ei:
        broker.connect("nobody", "nobody-secret3")
    assert "(530) \"NOT_ALLOWED - access to vhost '/' refused for user 'nobody'\"" in str(ei.value)


def test_pika_missing_vhost(broker):
    with pytest.raises(pika.exceptions.ProbableAccessDeniedError) as ei:
        broker.connect(vhost="nope")
    assert "(530) 'NOT_ALLOWED - vhost nope not found'" in str(ei.value)


def test_second_vhost_isolated(broker, uname):
    q = uname("iso")
    c1 = broker.connect(vhost="pulse-test")
    c2 = broker.connect()
    try:
        c1.channel().queue_declare(q, auto_delete=True)
        ch2 = c2.channel()
        with channel_closed(404, "NOT_FOUND - no queue '%s' in vhost '/'" % q):
            ch2.queue_declare(q, passive=True)
    finally:
        c1.close()
        c2.close()


# ----------------------------------------------------------------- tune --

def test_tune_client_lower_frame_max_and_channel_max(raw):
    fr = raw.handshake(frame_max=4096, channel_max=10)
    assert isinstance(fr.method, spec.Connection.OpenOk)


@pytest.mark.parametrize("tune", [
    {"channel_max": 0},       # 0 = "no limit" > server's 2047 -> refused
    {"channel_max": 3000},    # above server's channel_max
    {"frame_max": 1024},      # below the 4096 minimum
    {"frame_max": 200000},    # above server's frame_max
], ids=["channel_max_0", "channel_max_3000", "frame_max_1024", "frame_max_200000"])
def test_tune_ok_out_of_range_silent_close(raw, tune):
    t0 = time.time()
    fr = raw.handshake(**tune)
    assert_silent_close(raw, fr, t0)


def test_pika_negotiates_values(broker):
    c = broker.connect(heartbeat=30, channel_max=100, frame_max=65536)
    try:
        params = c._impl.params
        assert params.heartbeat == 30
        assert params.channel_max == 100
        assert params.frame_max == 65536
    finally:
        c.close()


# ---------------------------------------------------------------- close --

def test_client_close(raw):
    raw.handshake()
    raw.send_method(0, spec.Connection.Close(reply_code=200, reply_text="bye", class_id=0, method_id=0))
    fr = raw.recv_method()
    assert isinstance(fr.method, spec.Connection.CloseOk)
    # (RabbitMQ then waits for the client to close the TCP connection)


def test_client_close_with_open_channels(conn):
    ch1 = conn.channel()
    ch2 = conn.channel()
    conn.close()
    assert ch1.is_closed and ch2.is_closed


def test_server_close_on_connection_error_then_close_ok(raw):
    raw.handshake()
    # basic.qos on channel 5 that was never opened -> connection error
    raw.send_method(5, spec.Basic.Qos(prefetch_count=1))
    m = close_method(raw.recv_method())
    assert m.reply_code == 504
    assert m.reply_text == "CHANNEL_ERROR - expected 'channel.open'"
    assert (m.class_id, m.method_id) == (60, 10)
    raw.send_method(0, spec.Connection.CloseOk())
    t0 = time.time()
    assert raw.recv_frame(5) is None  # socket closed promptly after close-ok
    assert time.time() - t0 < 2


def test_frames_after_connection_close_are_ignored(raw):
    raw.handshake()
    raw.send_method(5, spec.Basic.Qos(prefetch_count=1))
    close_method(raw.recv_method())
    # anything except close-ok is discarded while closing
    raw.send_method(0, spec.Connection.Open(virtual_host="/"))
    raw.send_method(0, spec.Connection.CloseOk())
    assert raw.recv_frame(5) is None


def test_connection_error_closes_all_channels(conn, uname):
    ch = conn.channel()
    other = conn.channel()
    with connection_closed(503, startswith="COMMAND_INVALID - unknown exchange type 'bogus'"):
        ch.exchange_declare(uname("x"), exchange_type="bogus")
    assert other.is_closed and conn.is_closed


# ----------------------------------------------------------- heartbeats --

def test_heartbeat_zero_disables(raw):
    raw.handshake(heartbeat=0)
    frames, elapsed = raw.wait_closed(1.5)
    assert not any(isinstance(f, frame.Heartbeat) for f in frames)


def test_server_sends_heartbeats_and_closes_silent_client(broker):
    raw = RawConnection(broker.host, broker.port)
    try:
        fr = raw.handshake(heartbeat=1)
        assert isinstance(fr.method, spec.Connection.OpenOk)
        t0 = time.time()
        frames, _ = raw.wait_closed(10)
        elapsed = time.time() - t0
        assert any(isinstance(f, frame.Heartbeat) for f in frames)
        # RabbitMQ closes a client that sent nothing for ~2 intervals
        assert 1.5 <= elapsed <= 5, elapsed
    finally:
        raw.close()


def test_client_heartbeats_keep_connection_alive(broker):
    raw = RawConnection(broker.host, broker.port)
    try:
        raw.handshake(heartbeat=1)
        raw.sock.settimeout(0.25)
        t_end = time.time() + 4
        while time.time() < t_end:
            raw.send_heartbeat()
            try:
                if raw.recv_frame() is None:
                    pytest.fail("server closed a connection that was sending heartbeats")
            except socket.timeout:
                pass
        raw.send_method(1, spec.Channel.Open())
        raw.sock.settimeout(5)
        fr = raw.recv_method()
        assert isinstance(fr.method, spec.Channel.OpenOk)
    finally:
        raw.close()


# ----------------------------------------------- broker config limits --

@pytest.fixture(scope="module")
def limited(broker_with):
    return broker_with(LIMITS)


def test_config_tune_values(limited):
    raw = RawConnection(limited.host, limited.port)
    try:
        raw.handshake(heartbeat=1)
        assert raw.tune.heartbeat == 1
        assert raw.tune.frame_max == 8192
        assert raw.tune.channel_max == 16
    finally:
        raw.close()


def test_config_heartbeat_pika_adopts_server_value(limited):
    c = limited.connect()
    try:
        assert c._impl.params.heartbeat == 1
        # pika heartbeats keep it alive across several intervals
        c.process_data_events(time_limit=3.5)
        assert c.is_open
        c.channel().queue_declare("", exclusive=True)
    finally:
        c.close()


def test_config_silent_client_closed_by_heartbeat(limited):
    raw = RawConnection(limited.host, limited.port)
    try:
        raw.handshake(heartbeat=0)  # disabled by the client even though proposed
        frames, elapsed = raw.wait_closed(1.5)
        assert not any(isinstance(f, frame.Heartbeat) for f in frames)
        raw2 = RawConnection(limited.host, limited.port)
        raw2.handshake(heartbeat=1)
        frames, elapsed = raw2.wait_closed(10)
        assert elapsed < 5
        raw2.close()
    finally:
        raw.close()


def test_config_channel_max_exceeded(limited):
    raw = RawConnection(limited.host, limited.port)
    try:
        raw.handshake(heartbeat=0)
        # RabbitMQ limits the NUMBER of open channels, not the channel id
        for n in range(1, 16):
            raw.send_method(n, spec.Channel.Open())
            assert isinstance(raw.recv_method().method, spec.Channel.OpenOk)
        raw.send_method(100, spec.Channel.Open())
        assert isinstance(raw.recv_method().method, spec.Channel.OpenOk)
        raw.send_method(101, spec.Channel.Open())
        m = close_method(raw.recv_method())
        assert m.reply_code == 530
        assert m.reply_text == ("NOT_ALLOWED - number of channels opened (16) has reached "
                                "the negotiated channel_max (16)")
    finally:
        raw.close()


def test_config_frame_max_exceeded(limited):
    c = limited.connect(frame_max=8192)
    try:
        ch = c.channel()
        q = ch.queue_declare("", exclusive=True).method.queue
        ch.confirm_delivery()
        ch.basic_publish("", q, b"x" * 20000)  # pika splits bodies by frame_max: fine
        assert ch.queue_declare(q, passive=True).method.message_count == 1
    finally:
        c.close()
    raw = RawConnection(limited.host, limited.port)
    try:
        raw.handshake(frame_max=8192)
        raw.send_method(1, spec.Channel.Open())
        raw.recv_method()
        # one body frame bigger than frame_max
        raw.send_method(1, spec.Basic.Publish(exchange="", routing_key="nowhere"))
        raw.send_raw(frame.Header(1, 10000, spec.BasicProperties()).marshal())
        raw.send_raw(frame.Body(1, b"y" * 10000).marshal())
        m = close_method(raw.recv_method())
        assert m.reply_code == 501
        assert m.reply_text.startswith("FRAME_ERROR")
    finally:
        raw.close()


def test_config_max_message_size(limited):
    c = limited.connect()
    try:
        ch = c.channel()
        q = ch.queue_declare("", exclusive=True).method.queue
        ch.confirm_delivery()
        ch.basic_publish("", q, b"x" * 65536)
        assert ch.queue_declare(q, passive=True).method.message_count == 1
        with channel_closed(406, "PRECONDITION_FAILED - message size 65537 is larger than configured max size 65536"):
            ch.basic_publish("", q, b"x" * 65537)
            ch.queue_declare(q, passive=True)
    finally:
        c.close()


def test_config_handshake_timeout(limited):
    raw = RawConnection(limited.host, limited.port)
    try:
        raw.send_raw(PROTOCOL_HEADER)
        t0 = time.time()
        frames, _ = raw.wait_closed(10)
        elapsed = time.time() - t0
        assert isinstance(frames[0].method, spec.Connection.Start)
        assert 1.5 <= elapsed <= 5, elapsed
    finally:
        raw.close()
