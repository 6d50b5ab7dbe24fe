"""The admin UI's shell in Debian's chromium against pulsed: served at / with the static
pages' CSP, sign-in with a broker user (wrong password refused with the server's text, a user
without a management tag refused), credentials in the tab only (no cookie), navigation by
tags, sign-out forgets the login, unknown pages say so."""
import uuid

import pytest

from harness.broker import PulsedBroker, free_port
from harness.certs import certs
from harness.http_api import HttpApi
from harness.https import ssl_block
from harness.ui import ui_fixture

ui = pytest.fixture(ui_fixture)


def base(broker):
    return "http://127.0.0.1:%d" % broker.http_port


def test_root_serves_the_ui_with_its_csp(broker):
    api = HttpApi(broker)
    r = api.get("/", auth=False)
    assert r.status == 200
    assert "text/html" in r.headers["content-type"]
    # RabbitMQ's header at its UI's address; the page's own, stricter policy in a meta tag.
    assert r.headers["content-security-policy"] == (
        "script-src 'self' 'unsafe-eval' 'unsafe-inline'; object-src 'self'")
    assert b'http-equiv="Content-Security-Policy" content="default-src \'self\'; script-src \'self\';' in r.raw
    assert b'src="/ui/js/app.js"' in r.raw
    r = api.get("/ui/js/app.js", auth=False)
    assert r.status == 200 and "javascript" in r.headers["content-type"]


def test_sign_in_navigate_sign_out(broker, ui):
    ui.goto(base(broker) + "/")
    ui.fill(label="Username", value="guest")
    ui.fill(label="Password", value="wrong")
    ui.click(role="button", name="Sign in")
    ui.text_with("Login failed", role="alert")
    ui.screenshot("01-signin-refused")
    ui.fill(label="Password", value="guest")
    ui.click(role="button", name="Sign in")
    ui.wait(role="heading", name="Overview")
    ui.wait(role="img", name="Message rates")
    ui.screenshot("02-overview")
    # The chart window is kept in the address, so a reload or a shared link keeps it.
    ui.select(label="Chart range", value="600")
    assert ui.url().endswith("#/?range=600"), ui.url()
    ui.wait(role="img", name="Message rates")
    ui.goto(ui.url())
    assert ui.eval("document.getElementById('chart-range').value") == "600"
    nav = ui.texts(css="nav a")
    for page in ("Overview", "Connections", "Channels", "Exchanges", "Queues", "Users",
                 "Virtual hosts", "Policies", "Limits", "Definitions", "Pulse", "Inspector"):
        assert page in nav, nav
    assert ui.eval("document.cookie") == ""
    ui.goto(base(broker) + "/#/no-such-page")
    ui.wait(role="heading", name="Not found")
    # A reload keeps the tab signed in; sign-out forgets the login.
    ui.goto(base(broker) + "/#/")
    ui.wait(role="heading", name="Overview")
    ui.click(role="button", name="Sign out")
    ui.wait(role="button", name="Sign in")
    assert ui.eval("sessionStorage.length") == 0
    ui.goto(base(broker) + "/#/queues")
    ui.wait(role="button", name="Sign in")


def test_user_without_management_tag_is_refused(broker, ui):
    api = HttpApi(broker)
    name = "ui-plain-" + uuid.uuid4().hex[:6]
    assert api.put("/api/users/" + name, {"password": "pw", "tags": ""}).status == 201
    try:
        ui.goto(base(broker) + "/")
        ui.fill(label="Username", value=name)
        ui.fill(label="Password", value="pw")
        ui.click(role="button", name="Sign in")
        ui.text_with("Not management user", role="alert")
    finally:
        api.delete("/api/users/" + name)


def test_ui_over_https(ui):
    # The management HTTPS listener serves the same UI, and its API calls stay on HTTPS.
    c = certs()
    port = free_port()
    config = ssl_block("management", port, c.server_cert, c.server_key, c.ca)
    config.update({"prometheus.tcp.ip": "127.0.0.1", "prometheus.tcp.port": free_port()})
    b = PulsedBroker(config, plain_http=False)
    b.start()
    try:
        ui.sign_in("https://localhost:%d" % port, "guest", "guest")
        ui.wait(role="img", name="Message rates")
        assert ui.eval("location.protocol") == "https:"
        assert ui.count(css="[data-total='exchanges'] .v") == 1
        ui.screenshot("overview-https")
    finally:
        b.stop()
