"""The admin UI with the keyboard alone (Debian's chromium against pulsed): the sign-in form
has the focus and submits with Enter, the first Tab reaches "Skip to content", links and
buttons work with Enter, a dialog takes the focus and Escape cancels it without acting."""
import uuid

import pika
import pytest

from harness.http_api import HttpApi, q
from harness.ui import ui_fixture

ui = pytest.fixture(ui_fixture)


def test_sign_in_navigate_and_cancel_a_dialog_by_keyboard(broker, ui):
    name = "kbd-" + uuid.uuid4().hex[:8]
    conn = pika.BlockingConnection(pika.URLParameters(broker.url()))
    conn.channel().queue_declare(name)
    conn.close()
    api = HttpApi(broker)
    try:
        base = "http://127.0.0.1:%d" % broker.http_port
        ui.goto(base + "/")
        ui.wait(role="button", name="Sign in")
        assert ui.focused()["label"] == "Username", ui.focused()
        ui.type("guest")
        ui.press("Tab")
        ui.type("guest")
        ui.press("Enter")
        ui.wait(role="button", name="Sign out")
        ui.wait(role="heading", name="Overview")

        # Signing in leaves the focus on the page's content, not on the hidden form.
        assert ui.eval("document.activeElement.id") == "page"
        ui.eval("location.reload()")  # a fresh load (signed in still): Tab starts at the top
        ui.wait(role="heading", name="Overview")
        ui.press("Tab")
        assert ui.focused()["text"] == "Skip to content", ui.focused()
        ui.press("Tab")
        assert ui.focused()["tag"] == "a", ui.focused()  # the brand, then the navigation

        ui.goto(base + "/#/queues/%2F/" + q(name))
        ui.wait(role="button", name="Delete queue")
        ui.press("Enter", role="button", name="Delete queue")
        ui.wait(role="dialog")
        f = ui.focused()
        assert f["inDialog"], f  # the dialog took the focus
        ui.screenshot("delete-dialog-by-keyboard")
        ui.press("Escape")
        ui.wait(role="dialog", state="hidden")
        assert api.get("/api/queues/%2F/" + q(name)).status == 200  # cancelled: nothing deleted
    finally:
        api.delete("/api/queues/%2F/" + q(name))
