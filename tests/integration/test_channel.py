"""channel.* class."""
import pytest
from pika import spec

from harness.amqp_assert import channel_closed, connection_closed
from harness.raw_amqp import RawConnection


@pytest.fixture
def raw(broker):
    r = RawConnection(broker.host, broker.port)
    r.handshake()
    yield r
    r.close()


def test_open_close(conn):
    ch = conn.channel()
    assert ch.is_open
    ch.close()
    assert ch.is_closed
    assert conn.is_open


def test_many_channels(conn):
    chans = [conn.channel() for _ in range(50)]
    assert len({c.channel_number for c in chans}) == 50
    for c in chans:
        c.close()


def test_reuse_channel_id_after_close(raw):
    for _ in range(3):
        raw.send_method(7, spec.Channel.Open())
        fr = raw.recv_method()
        assert fr.channel_number == 7 and isinstance(fr.method, spec.Channel.OpenOk)
        raw.send_method(7, spec.Channel.Close(reply_code=200, reply_text="", class_id=0, method_id=0))
        fr = raw.recv_method()
        assert fr.channel_number == 7 and isinstance(fr.method, spec.Channel.CloseOk)


def test_reuse_channel_id_after_server_close(raw):
    raw.send_method(3, spec.Channel.Open())
    raw.recv_method()
    raw.send_method(3, spec.Queue.Declare(queue="no-such-queue-reuse", passive=True))
    fr = raw.recv_method()
    assert isinstance(fr.method, spec.Channel.Close)
    assert fr.method.reply_code == 404
    assert (fr.method.class_id, fr.method.method_id) == (50, 10)
    raw.send_method(3, spec.Channel.CloseOk())
    raw.send_method(3, spec.Channel.Open())
    fr = raw.recv_method()
    assert fr.channel_number == 3 and isinstance(fr.method, spec.Channel.OpenOk)


def test_frames_ignored_on_closing_channel(raw):
    """After the server sends channel.close, everything but close/close-ok on
    that channel is discarded."""
    raw.send_method(3, spec.Channel.Open())
    raw.recv_method()
    raw.send_method(3, spec.Queue.Declare(queue="no-such-queue-closing", passive=True))
    raw.send_method(3, spec.Queue.Declare(queue="", exclusive=True))  # ignored
    fr = raw.recv_method()
    assert isinstance(fr.method, spec.Channel.Close)
    raw.send_method(3, spec.Channel.CloseOk())
    raw.send_method(3, spec.Channel.Open())
    fr = raw.recv_method()
    assert isinstance(fr.method, spec.Channel.OpenOk)


def test_open_already_open_channel(raw):
    raw.send_method(2, spec.Channel.Open())
    raw.recv_method()
    raw.send_method(2, spec.Channel.Open())
    fr = raw.recv_method()
    assert fr.channel_number == 0
    assert isinstance(fr.method, spec.Connection.Close)
    assert fr.method.reply_code == 504
    assert fr.method.reply_text == "CHANNEL_ERROR - second 'channel.open' seen"
    assert (fr.method.class_id, fr.method.method_id) == (20, 10)


def test_method_on_unopened_channel(raw):
    raw.send_method(9, spec.Queue.Declare(queue="", exclusive=True))
    fr = raw.recv_method()
    assert fr.channel_number == 0
    assert isinstance(fr.method, spec.Connection.Close)
    assert fr.method.reply_code == 504
    assert fr.method.reply_text == "CHANNEL_ERROR - expected 'channel.open'"
    assert (fr.method.class_id, fr.method.method_id) == (50, 10)


def test_close_unopened_channel_is_connection_error(raw):
    raw.send_method(9, spec.Channel.Close(reply_code=200, reply_text="", class_id=0, method_id=0))
    fr = raw.recv_method(timeout=3)
    assert fr.channel_number == 0 and isinstance(fr.method, spec.Connection.Close)
    assert fr.method.reply_code == 504
    assert fr.method.reply_text == "CHANNEL_ERROR - expected 'channel.open'"
    assert (fr.method.class_id, fr.method.method_id) == (20, 40)


def test_flow_active_true(ch):
    assert ch.flow(True) is True


def test_flow_active_false_not_implemented(conn):
    ch = conn.channel()
    with connection_closed(540, "NOT_IMPLEMENTED - active=false"):
        ch.flow(False)


def test_channel_error_keeps_connection_and_other_channels(conn, uname):
    a = conn.channel()
    b = conn.channel()
    with channel_closed(404):
        a.queue_declare(uname("missing"), passive=True)
    assert a.is_closed and b.is_open and conn.is_open
    b.queue_declare("", exclusive=True)


def test_content_without_publish_is_unexpected_frame(raw):
    from pika import frame
    raw.send_method(1, spec.Channel.Open())
    raw.recv_method()
    raw.send_raw(frame.Header(1, 3, spec.BasicProperties()).marshal())
    fr = raw.recv_method()
    assert isinstance(fr.method, spec.Connection.Close)
    assert fr.method.reply_code == 505
    assert fr.method.reply_text.startswith("UNEXPECTED_FRAME")
