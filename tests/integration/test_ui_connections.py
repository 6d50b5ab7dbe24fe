"""The admin UI's connections and channels pages in Debian's chromium against pulsed: a pika
client's connection is listed with its client product, its page shows the client properties
(capabilities too) and its channel with the prefetch pika set; the channels page lists the
channel and its page the consumer; closing the connection from the UI with a reason reaches
the client as RabbitMQ sends it: connection.close 320 "CONNECTION_FORCED - <reason>"."""
import time
import urllib.parse
import uuid

import pytest

from harness.amqp_assert import connection_closed
from harness.http_api import HttpApi, conn_name
from harness.ui import ui_fixture

ui = pytest.fixture(ui_fixture)


def base(broker):
    return "http://127.0.0.1:%d" % broker.http_port


@pytest.fixture
def client(broker):
    """A pika connection with one channel (prefetch 17) consuming from an exclusive queue."""
    conn = broker.connect()
    ch = conn.channel()
    ch.basic_qos(prefetch_count=17)
    q = ch.queue_declare("ui-conn-" + uuid.uuid4().hex[:8], exclusive=True).method.queue
    tag = ch.basic_consume(q, lambda *a: None)
    yield conn, ch, q, tag
    if conn.is_open:
        conn.close()


def wait_listed(api, name):
    # The management API lists a connection once its stats have been sampled.
    for _ in range(50):
        if api.get("/api/connections/" + quote(name)).status == 200:
            return
        time.sleep(0.2)
    raise AssertionError("connection %s never listed" % name)


def shot(ui, name):
    # From the top: a full-page capture of a scrolled page draws sticky headers mid-page.
    ui.eval("window.scrollTo(0, 0)")
    ui.screenshot(name)


def quote(s):
    return urllib.parse.quote(s, safe="")


def test_connection_and_channel_pages(broker, ui, client):
    conn, _ch, q, tag = client
    api = HttpApi(broker)
    name = conn_name(broker, conn)
    wait_listed(api, name)
    ui.sign_in(base(broker), "guest", "guest")

    ui.goto(base(broker) + "/#/connections")
    ui.fill(label="Filter", value=name)
    ui.wait(role="link", name=name, exact=True)
    rows = ui.rows(role="table", name="Connections")
    row = next(r for r in rows if r[0] == name)
    assert row[1] == "guest" and row[2] == "/"
    assert row[3].startswith("Pika Python Client Library"), row
    assert row[4] == "AMQP 0-9-1" and row[5] == "no" and row[6] == "1" and row[7] == "running", row
    shot(ui, "01-connections")

    ui.click(role="link", name=name, exact=True)
    ui.wait(role="heading", name="Connection " + name)
    props = ui.text(role="region", name="Client properties")
    assert "Pika Python Client Library" in props
    assert "Capabilities" in props and "publisher_confirms" in props
    facts = ui.text(role="region", name="Overview")
    assert "PLAIN" in ui.text(role="region", name="Security")
    assert "131,072 bytes" in facts and "60 s" in facts, facts
    chans = ui.rows(role="table", name="Channels of this connection")
    assert len(chans) == 1, chans
    assert chans[0][0] == name + " (1)" and chans[0][3] == "17", chans
    shot(ui, "02-connection")

    ui.goto(base(broker) + "/#/channels")
    ui.fill(label="Filter", value=name)
    ui.wait(role="link", name=name + " (1)", exact=True)
    rows = ui.rows(role="table", name="Channels")
    row = next(r for r in rows if r[0] == name + " (1)")
    # Channel, user, vhost, mode, state, prefetch, unacked, unconfirmed, consumers
    assert row[1] == "guest" and row[5] == "17" and row[8] == "1", row
    shot(ui, "03-channels")

    ui.click(role="link", name=name + " (1)", exact=True)
    ui.wait(role="heading", name="Channel " + name + " (1)")
    consumers = ui.rows(role="table", name="Consumers on this channel")
    assert [c[:2] for c in consumers] == [[tag, q]], consumers
    assert "17" in ui.text(role="region", name="Overview")
    shot(ui, "04-channel")
    ui.click(role="link", name=name, exact=True)
    ui.wait(role="heading", name="Connection " + name)


def test_close_connection_with_a_reason(broker, ui, client):
    conn, _ch, _q, _tag = client
    api = HttpApi(broker)
    name = conn_name(broker, conn)
    wait_listed(api, name)
    reason = "maintenance by the ui test " + uuid.uuid4().hex[:6]
    ui.sign_in(base(broker), "guest", "guest")
    ui.goto(base(broker) + "/#/connections/" + quote(name))
    ui.wait(role="heading", name="Connection " + name)
    ui.click(role="button", name="Close connection")
    dialog = {"role": "dialog", "name": "Close connection"}
    text = ui.text(**dialog)
    assert name in text and "guest" in text, text
    ui.fill(value=reason, label="Reason", within=dialog)
    shot(ui, "01-close-dialog")
    # Cancel closes nothing.
    ui.click(role="button", name="Cancel", within=dialog)
    assert api.get("/api/connections/" + quote(name)).status == 200
    ui.click(role="button", name="Close connection")
    ui.fill(value=reason, label="Reason", within=dialog)
    ui.click(role="button", name="Close connection", within=dialog)
    ui.wait(role="heading", name="Connections", exact=True)
    with connection_closed(320, "CONNECTION_FORCED - " + reason):
        for _ in range(50):
            conn.process_data_events(time_limit=0.2)
    shot(ui, "02-closed")
