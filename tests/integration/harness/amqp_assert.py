"""Assertion helpers for broker-initiated channel / connection closes."""
import contextlib

import pika
import pytest


@contextlib.contextmanager
def channel_closed(code, text=None, startswith=None):
    """Expect the block to raise ChannelClosedByBroker(code, text)."""
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as ei:
        yield ei
    assert ei.value.reply_code == code, ei.value
    if text is not None:
        assert ei.value.reply_text == text
    if startswith is not None:
        assert ei.value.reply_text.startswith(startswith), ei.value.reply_text


@contextlib.contextmanager
def connection_closed(code, text=None, startswith=None):
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as ei:
        yield ei
    assert ei.value.reply_code == code, ei.value
    if text is not None:
        assert ei.value.reply_text == text
    if startswith is not None:
        assert ei.value.reply_text.startswith(startswith), ei.value.reply_text


def sync(ch):
    """Round-trip on the channel so asynchronous errors (e.g. from
    basic.publish) surface: a passive declare of amq.direct is side-effect
    free."""
    ch.exchange_declare("amq.direct", passive=True)


def drain(conn, seconds=0.2):
    conn.process_data_events(time_limit=seconds)
