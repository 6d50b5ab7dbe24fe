"""The admin UI's push subscriptions page (#/pulse/subscriptions) in Debian's chromium against
a pulsed of this module's own: a subscription made through the API (verified by a local
subscriber) is listed with its state, topic and callback, reached from the Pulse page's link,
and deleted with its button (the dialog confirms); the API then no longer has it."""
import pytest

from harness.broker import PulsedBroker, free_port
from harness.http_api import HttpApi, q
from harness.push_subscriber import Subscriber
from harness.ui import ui_fixture

ui = pytest.fixture(ui_fixture)
P = "/api/pulse"
EXCHANGE = "exchange/guest/ui-push"


@pytest.fixture(scope="module")
def pulse():
    b = PulsedBroker()
    b.port = free_port()
    b.start()
    conn = b.connect()
    conn.channel().exchange_declare(EXCHANGE, "topic", durable=True)
    conn.close()
    yield b
    b.stop()


def base(b):
    return "http://127.0.0.1:%d" % b.http_port


def test_subscriptions_are_listed_and_deleted_from_the_ui(pulse, ui):
    api = HttpApi(pulse)
    sub = Subscriber("uisecret")
    sid = None
    try:
        r = api.post(P + "/subscriptions", {"exchange": EXCHANGE, "topic": "ui.#",
                                            "callback": sub.url, "secret": "uisecret"})
        assert r.status == 202, r
        sid = r.json["id"]
        ui.sign_in(base(pulse), "guest", "guest")
        ui.goto(base(pulse) + "/#/pulse")
        ui.click(role="link", name="Push subscriptions", exact=True)
        ui.wait(role="heading", name="Push subscriptions")
        ui.wait(role="button", name="Delete subscription " + sid)
        ui.wait(role="cell", name="ui.#", exact=True)
        ui.wait(role="cell", name=sub.url, exact=True)
        ui.wait(role="cell", name="active", exact=True)  # verified meanwhile (5 s refresh)
        ui.screenshot("pulse-subscriptions")
        ui.click(role="button", name="Delete subscription " + sid)
        ui.click(role="button", name="Delete", exact=True, within={"role": "dialog"})
        ui.wait(role="button", name="Delete subscription " + sid, state="detached")
        assert api.get(P + "/subscriptions/" + q(sid)).status == 404
        ui.assert_no_console_errors()
    finally:
        sub.stop()
        if sid:
            api.delete(P + "/subscriptions/" + q(sid))
