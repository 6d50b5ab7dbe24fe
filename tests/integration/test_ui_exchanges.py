"""The admin UI's exchanges pages in Debian's chromium against pulsed: the list (the default
exchange as "(AMQP default)"), adding an exchange with the form and deleting it from its page
(the confirmation names it), adding and removing bindings to a queue and an exchange, and
publishing a test message: routed to a bound queue (which then holds it, with the headers and
properties given) or reported as not routed."""
import urllib.parse
import uuid

import pytest

from harness.http_api import HttpApi
from harness.ui import ui_fixture

ui = pytest.fixture(ui_fixture)


def base(broker):
    return "http://127.0.0.1:%d" % broker.http_port


def shot(ui, name):
    # From the top: a full-page capture of a scrolled page draws sticky headers mid-page.
    ui.eval("window.scrollTo(0, 0)")
    ui.screenshot(name)


def quote(s):
    return urllib.parse.quote(s, safe="")


def test_list_add_and_delete_an_exchange(broker, ui):
    api = HttpApi(broker)
    name = "exchange/ui-owner/x-" + uuid.uuid4().hex[:8]
    ui.sign_in(base(broker), "guest", "guest")
    ui.goto(base(broker) + "/#/exchanges/%2F")
    ui.wait(role="link", name="(AMQP default)", exact=True)
    assert ui.attr("href", role="link", name="(AMQP default)", exact=True) == "#/exchanges/%2F/amq.default"
    shot(ui, "01-exchanges")

    form = {"role": "form", "name": "Add a new exchange"}
    ui.fill(value=name, label="Name", exact=True, within=form)
    ui.select("topic", label="Type", exact=True, within=form)
    ui.check(False, label="Durable", exact=True, within=form)
    ui.check(True, label="Auto-delete", exact=True, within=form)
    ui.fill(value="alternate-exchange", label="Argument 1 key", within=form)
    ui.fill(value="amq.fanout", label="Argument 1 value", within=form)
    ui.click(role="button", name="Add exchange")
    ui.wait(text='Exchange "%s" added.' % name)
    try:
        x = api.get("/api/exchanges/%2F/" + quote(name)).json
        assert x["type"] == "topic" and not x["durable"] and x["auto_delete"] and not x["internal"], x
        assert x["arguments"] == {"alternate-exchange": "amq.fanout"}, x
        # Adding it again says so instead of answering "added".
        ui.fill(value=name, label="Name", exact=True, within=form)
        ui.click(role="button", name="Add exchange")
        ui.text_with("already exists", role="alert", within=form)

        ui.fill(label="Filter", value=name)
        ui.wait(role="link", name="(AMQP default)", exact=True, state="detached")
        rows = ui.rows(role="table", name="Exchanges in virtual host /")
        assert rows == [[name, "/", "topic", "AD Args", "ui-owner", "", ""]], rows
        shot(ui, "02-exchange-added")

        ui.click(role="link", name=name, exact=True)
        ui.wait(role="heading", name="Exchange")
        assert "amq.fanout" in ui.text(role="region", name="Arguments")
        assert "ui-owner" in ui.text(role="region", name="Overview")
        shot(ui, "03-exchange")
        ui.click(role="button", name="Delete this exchange")
        dialog = {"role": "dialog", "name": "Delete exchange"}
        assert name in ui.text(**dialog) and "ui-owner" in ui.text(**dialog)
        shot(ui, "04-delete-dialog")
        ui.click(role="button", name="Delete", exact=True, within=dialog)
        ui.wait(text='Exchange "%s" deleted.' % name)
        assert api.get("/api/exchanges/%2F/" + quote(name)).status == 404
        ui.wait(role="heading", name="Exchanges")
    finally:
        api.delete("/api/exchanges/%2F/" + quote(name))


def test_bindings_and_publish(broker, ui):
    api = HttpApi(broker)
    tag = uuid.uuid4().hex[:8]
    x, x2, q = "ui-x-" + tag, "ui-x2-" + tag, "ui-q-" + tag
    conn = broker.connect()
    ch = conn.channel()
    ch.exchange_declare(x, "direct")
    ch.exchange_declare(x2, "fanout")
    ch.queue_declare(q)
    try:
        ui.sign_in(base(broker), "guest", "guest")
        ui.goto(base(broker) + "/#/exchanges/%2F/" + quote(x))
        ui.wait(role="heading", name="Exchange")
        src = {"role": "form", "name": "Add binding from this exchange"}
        ui.fill(value=q, label="Destination name", within=src)
        ui.fill(value="orders", label="Routing key", exact=True, within=src)
        ui.click(role="button", name="Bind", within=src)
        ui.wait(role="link", name=q, exact=True)
        b = api.get("/api/exchanges/%2F/" + x + "/bindings/source").json
        assert [(i["destination"], i["destination_type"], i["routing_key"]) for i in b] == [(q, "queue", "orders")]
        # x2 -> x: a binding where x is the destination.
        dst = {"role": "form", "name": "Add binding to this exchange"}
        ui.fill(value=x2, label="From exchange", within=dst)
        ui.click(role="button", name="Bind", within=dst)
        ui.wait(role="link", name=x2, exact=True)
        rows = ui.rows(role="table", name="Bindings where this exchange is the destination")
        assert [r[:2] for r in rows] == [[x2, ""]], rows
        assert api.get("/api/exchanges/%2F/" + x2 + "/bindings/source").json[0]["destination"] == x

        pub = {"role": "form", "name": "Publish message"}
        ui.fill(value="orders", label="Routing key", exact=True, within=pub)
        ui.select("2", label="Delivery mode", within=pub)
        ui.fill(value="attempt", label="Header 1 key", within=pub)
        ui.fill(value="3", label="Header 1 value", within=pub)
        ui.select("number", label="Header 1 type", within=pub)
        ui.fill(value="content_type", label="Property 1 key", within=pub)
        ui.fill(value="text/plain", label="Property 1 value", within=pub)
        ui.fill(value="hello from the ui", label="Payload", exact=True, within=pub)
        ui.click(role="button", name="Publish message", within=pub)
        ui.wait(text="Message published.", exact=True)
        shot(ui, "01-exchange-published")
        method, props_, body = ch.basic_get(q, auto_ack=True)
        assert body == b"hello from the ui"
        assert props_.headers == {"attempt": 3} and props_.delivery_mode == 2
        assert props_.content_type == "text/plain"

        ui.fill(value="nobody-listens", label="Routing key", exact=True, within=pub)
        ui.click(role="button", name="Publish message", within=pub)
        ui.wait(text="Message published, but not routed.", exact=True)
        assert ch.queue_declare(q, passive=True).method.message_count == 0
        # A refusal shows the server's reason.
        ui.select("base64", label="Payload encoding", within=pub)
        ui.fill(value="not base64!", label="Payload", exact=True, within=pub)
        ui.click(role="button", name="Publish message", within=pub)
        ui.text_with("not_base64", role="status", within=pub)

        # Remove both bindings.
        ui.click(role="button", name="Unbind %s → %s (orders)" % (x, q))
        ui.wait(text="Binding removed.")
        ui.wait(role="link", name=q, exact=True, state="detached")
        assert api.get("/api/exchanges/%2F/" + x + "/bindings/source").json == []
        ui.click(role="button", name="Unbind %s → %s ()" % (x2, x))
        ui.wait(role="link", name=x2, exact=True, state="detached")
        assert api.get("/api/exchanges/%2F/" + x + "/bindings/destination").json == []
    finally:
        ch.queue_delete(q)
        ch.exchange_delete(x)
        ch.exchange_delete(x2)
        conn.close()


def test_default_exchange_publishes_to_a_queue_by_name(broker, ui):
    q = "ui-default-" + uuid.uuid4().hex[:8]
    conn = broker.connect()
    ch = conn.channel()
    ch.queue_declare(q)
    try:
        ui.sign_in(base(broker), "guest", "guest")
        ui.goto(base(broker) + "/#/exchanges")
        ui.wait(role="link", name="(AMQP default)", exact=True)
        ui.click(role="link", name="(AMQP default)", exact=True, nth=0)
        ui.wait(role="heading", name="Exchange (AMQP default)")
        assert "implicitly bound to every queue" in ui.text(role="region", name="Bindings")
        assert ui.count(role="button", name="Delete this exchange") == 0
        assert "null" not in ui.text(css="main").split()
        pub = {"role": "form", "name": "Publish message"}
        ui.fill(value=q, label="Routing key", exact=True, within=pub)
        ui.fill(value="via default", label="Payload", exact=True, within=pub)
        ui.click(role="button", name="Publish message", within=pub)
        ui.wait(text="Message published.", exact=True)
        shot(ui, "01-default-exchange")
        assert ch.basic_get(q, auto_ack=True)[2] == b"via default"
    finally:
        ch.queue_delete(q)
        conn.close()
