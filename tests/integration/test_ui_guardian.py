"""The admin UI served by pulse-guardian --listen in front of a private RabbitMQ 3.10 node
(issue 16): the UI's files as pulsed serves them (same CSP), every /api/... but /api/pulse passed
on to RabbitMQ's management API with the caller's credentials (RabbitMQ's answers, refusals and
headers come back), X-Reason reaching a closed connection's client, bodies over 20 MiB refused,
503 while RabbitMQ cannot be reached, proxied requests that never hold the guardian's loop, and
the UI in chromium: sign-in as a RabbitMQ administrator, the overview of the RabbitMQ node, the
queues declared with pika, the Pulse pages' nav item (the guardian's /api/pulse)."""
import http.server
import json
import os
import socket
import socketserver
import threading
import time
import uuid

import pika
import pytest

from harness.broker import HOST, free_port
from harness.broker_base import REPO
from harness.http_api import HttpApi, q
from harness.pulse_front import Guardian, RabbitLeftovers
from harness.pulse_targets import broker_for
from harness.ui import ui_fixture

ui = pytest.fixture(ui_fixture)

WEB_DIR = os.environ.get("PULSE_WEB_DIR") or os.path.join(REPO, "web")
QUEUES_PAGE = os.path.join(WEB_DIR, "ui", "js", "pages", "queues.js")


def rabbit(registry):
    """The session's private RabbitMQ node (pulse_targets), or the session broker itself in a
    RabbitMQ run."""
    import conftest
    return broker_for("rabbitmq", registry, lambda: conftest._start({}))


def start_guardian(node, url=None):
    g = Guardian(node, {"pulse.guardian.interval": 5}, extra=["--web-dir", WEB_DIR])
    if url:
        cmd = g.command()
        cmd[cmd.index("--url") + 1] = url
        g.command = lambda: cmd
    return g.start()


@pytest.fixture(scope="module")
def node(_broker_registry):
    n = rabbit(_broker_registry)
    leftovers = RabbitLeftovers(n)
    yield n
    leftovers.clean()


@pytest.fixture(scope="module")
def guardian(node):
    g = start_guardian(node)
    yield g
    g.cleanup()


def via(guardian, user="guest", password="guest"):
    """An API client of the guardian's listener."""
    api = HttpApi(guardian.broker, user, password)
    api.port = guardian.port
    return api


def test_root_serves_the_ui_with_its_csp(guardian):
    api = via(guardian)
    r = api.get("/", auth=False)
    assert r.status == 200, r
    assert "text/html" in r.headers["content-type"]
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-cache" and r.headers["etag"]
    assert r.headers["server"] == "pulse-guardian"
    assert b'src="/ui/js/app.js"' in r.raw
    r = api.get("/ui/js/app.js", auth=False)
    assert r.status == 200 and "javascript" in r.headers["content-type"]
    assert api.get("/inspector/", auth=False).status == 200
    assert api.get("/ui/no-such-file.js", auth=False).status == 404
    assert api.get("/nothing-here", auth=False).status == 404


def test_management_api_is_passed_on_with_the_callers_credentials(guardian, node):
    direct = HttpApi(node)
    tag = uuid.uuid4().hex[:6]
    names = ["ui-g-%s-%d" % (tag, i) for i in range(7)]
    user = "ui-g-mon-" + uuid.uuid4().hex[:6]
    assert direct.put("/api/users/" + user, {"password": "mon-pw", "tags": "monitoring"}).status \
        == 201
    assert direct.put("/api/permissions/%2F/" + user,
                      {"configure": "", "write": "", "read": ".*"}).status == 201
    conn = pika.BlockingConnection(pika.ConnectionParameters(HOST, node.port))
    try:
        ch = conn.channel()
        for i, name in enumerate(names):
            ch.queue_declare(name)
            for _ in range(i):
                ch.basic_publish("", name, b"x")
        r = via(guardian).get("/api/overview")
        assert r.status == 200, r
        assert r.json["product_name"] == "RabbitMQ"
        assert r.json["node"] == direct.get("/api/overview").json["node"]
        # The caller's login, not the guardian's -u: RabbitMQ says who asked.
        r = via(guardian, user, "mon-pw").get("/api/whoami")
        assert r.status == 200 and r.json["name"] == user, r
        # Paged, sorted and filtered as RabbitMQ pages (the query passed on unchanged).
        path = "/api/queues/%2F?page=1&page_size=5&name=" + q("^ui-g-" + tag) + \
            "&use_regex=true&sort=name&sort_reverse=true"
        # RabbitMQ lists new queues after its next statistics emission (~5 s).
        deadline = time.monotonic() + 30
        while direct.get(path).json["filtered_count"] < 7 and time.monotonic() < deadline:
            time.sleep(0.5)
        r = via(guardian, user, "mon-pw").get(path)
        assert r.status == 200, r
        assert r.json["page"] == 1 and r.json["page_size"] == 5
        assert r.json["filtered_count"] == 7
        assert [x["name"] for x in r.json["items"]] == sorted(names, reverse=True)[:5]
        r = via(guardian).get("/api/queues?page=1&page_size=5&sort=messages")
        assert r.status == 200 and r.json["page_size"] == 5 and len(r.json["items"]) <= 5, r
        # A user RabbitMQ does not let in: its refusal as it gave it.
        plain = "ui-g-plain-" + uuid.uuid4().hex[:6]
        assert direct.put("/api/users/" + plain, {"password": "pw", "tags": ""}).status == 201
        r = via(guardian, plain, "pw").get("/api/overview")
        assert r.status == 401 and r.json["reason"] == "Not management user", r
        direct.delete("/api/users/" + plain)
    finally:
        conn.close()
        for name in names:
            direct.delete("/api/queues/%2F/" + q(name))
        direct.delete("/api/users/" + user)


def test_wrong_password_gets_rabbitmqs_401(guardian, node):
    mine = via(guardian, "guest", "wrong").get("/api/overview")
    theirs = HttpApi(node, "guest", "wrong").get("/api/overview")
    assert mine.status == theirs.status == 401
    assert mine.raw == theirs.raw and mine.json["reason"] == "Login failed"
    assert mine.headers["content-type"] == theirs.headers["content-type"]
    assert mine.headers.get("www-authenticate") == theirs.headers.get("www-authenticate")
    # No credentials at all: RabbitMQ's answer too, never the guardian's own login.
    r = via(guardian).get("/api/overview", auth=False)
    assert r.status == 401, r


def test_put_and_delete_go_through(guardian, node):
    direct = HttpApi(node)
    api = via(guardian)
    vhost = "ui-g-vh-" + uuid.uuid4().hex[:6]
    assert api.put("/api/vhosts/" + q(vhost), {"description": "made through the guardian"}) \
        .status == 201
    try:
        assert direct.get("/api/vhosts/" + q(vhost)).json["description"] == \
            "made through the guardian"
        # The vhost's creator has its permissions already: RabbitMQ's 204 for an update.
        assert api.put("/api/permissions/%s/guest" % q(vhost),
                       {"configure": ".*", "write": ".*", "read": ".*"}).status in (201, 204)
        r = api.put("/api/queues/%s/work" % q(vhost), {"durable": True, "arguments":
                                                       {"x-max-length": 10}})
        assert r.status == 201, r
        assert direct.get("/api/queues/%s/work" % q(vhost)).json["arguments"] == \
            {"x-max-length": 10}
        # RabbitMQ's own refusals pass through, bad JSON included (content type kept).
        r = api.request("PUT", "/api/queues/%s/bad" % q(vhost), raw_body=b"{not json",
                        headers={"Content-Type": "application/json"})
        assert r.status == 400 and r.json["error"] == "bad_request", r
        r = api.get("/api/queues/%s/nope" % q(vhost))
        assert r.status == 404 and r.json == direct.get("/api/queues/%s/nope" % q(vhost)).json
        # A definitions export comes with its file name.
        r = api.get("/api/definitions/%s?download=defs.json" % q(vhost))
        assert r.status == 200 and "defs.json" in r.headers.get("content-disposition", ""), r
        assert api.delete("/api/queues/%s/work" % q(vhost)).status == 204
        assert direct.get("/api/queues/%s/work" % q(vhost)).status == 404
    finally:
        assert api.delete("/api/vhosts/" + q(vhost)).status == 204
    assert direct.get("/api/vhosts/" + q(vhost)).status == 404


def test_closing_a_connection_carries_the_reason(guardian, node):
    name = "ui-g-conn-" + uuid.uuid4().hex[:6]
    conn = pika.BlockingConnection(pika.ConnectionParameters(
        HOST, node.port, client_properties={"connection_name": name}))
    try:
        api = via(guardian)
        found = None
        deadline = time.monotonic() + 30
        while found is None and time.monotonic() < deadline:
            conn.process_data_events(0.2)
            for c in api.get("/api/connections").json:
                if c.get("client_properties", {}).get("connection_name") == name:
                    found = c["name"]
        assert found, "RabbitMQ never listed the connection"
        r = api.delete("/api/connections/" + q(found), headers={"X-Reason": "closed from the UI"})
        assert r.status == 204, r
        with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as e:
            for _ in range(50):
                conn.process_data_events(0.2)
        assert e.value.reply_code == 320
        assert "closed from the UI" in e.value.reply_text, e.value
    finally:
        if conn.is_open:
            conn.close()


def test_body_over_20_mib_is_refused(guardian):
    """Refused from the Content-Length alone, before anything reaches RabbitMQ."""
    s = socket.create_connection((HOST, guardian.port), timeout=10)
    try:
        s.sendall(b"POST /api/definitions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Authorization: Basic Z3Vlc3Q6Z3Vlc3Q=\r\nContent-Length: %d\r\n\r\n"
                  % (20 * 1024 * 1024 + 1))
        head = s.recv(65536).decode()
    finally:
        s.close()
    assert head.startswith("HTTP/1.1 413"), head
    assert "request entity too large" in head
    # Just under the limit is passed on (RabbitMQ judges the body itself).
    r = via(guardian).request("POST", "/api/definitions", raw_body=b" " * (1024 * 1024),
                              headers={"Content-Type": "application/json"})
    assert r.status == 400, r


def test_503_while_rabbitmq_cannot_be_reached(node):
    """--url at a port nothing listens on (a stopped RabbitMQ): the proxied calls answer 503
    as the API's other 503s, and the UI's pages are still served."""
    g = start_guardian(node, url="http://%s:%d" % (HOST, free_port()))
    try:
        r = via(g).get("/api/overview")
        assert r.status == 503 and r.json["error"] == "unavailable", r
        assert "could not be reached" in r.json["reason"], r
        assert r.headers["content-type"] == "application/json"
        assert via(g).get("/", auth=False).status == 200
    finally:
        g.cleanup()


class SlowRabbit(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """A stand-in for a RabbitMQ node that answers the guardian's own calls at once but holds
    /api/slow for `hold` seconds (a page of 20,000 queues, a busy node)."""
    daemon_threads = True

    def __init__(self, hold):
        self.hold = hold
        self.seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(h):
                self.seen.append(h.path)
                if h.path.startswith("/api/slow"):
                    time.sleep(self.hold)
                body = json.dumps({"name": "guest", "tags": ["administrator"]}
                                  if h.path == "/api/whoami" else []).encode()
                h.send_response(200)
                h.send_header("Content-Type", "application/json")
                h.send_header("Content-Length", str(len(body)))
                h.end_headers()
                h.wfile.write(body)

            def log_message(h, *a):
                pass

        super().__init__((HOST, 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def test_a_slow_request_holds_neither_the_loop_nor_other_requests(node):
    stub = SlowRabbit(hold=4)
    g = start_guardian(node, url="http://%s:%d" % (HOST, stub.server_address[1]))
    try:
        results = []

        def slow():
            results.append(via(g).get("/api/slow").status)

        threads = [threading.Thread(target=slow) for _ in range(2)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 3
        while stub.seen.count("/api/slow") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stub.seen.count("/api/slow") == 2, stub.seen
        t0 = time.monotonic()
        assert via(g).get("/", auth=False).status == 200  # the loop's own answer
        assert via(g).get("/api/overview").status == 200  # another proxied request
        assert via(g).get("/api/pulse/whoami").status == 200  # the loop's /api/pulse
        assert time.monotonic() - t0 < 2, "held behind the slow requests"
        for t in threads:
            t.join()
        assert results == [200, 200]
    finally:
        g.cleanup()
        stub.shutdown()


# The browser, as an administrator of the RabbitMQ node.

@pytest.fixture
def admin(node):
    direct = HttpApi(node)
    name = "ui-g-admin-" + uuid.uuid4().hex[:6]
    assert direct.put("/api/users/" + name, {"password": "admin-pw", "tags": "administrator"}) \
        .status == 201
    assert direct.put("/api/permissions/%2F/" + name,
                      {"configure": ".*", "write": ".*", "read": ".*"}).status == 201
    yield name, "admin-pw"
    direct.delete("/api/users/" + name)


def base(guardian):
    return "http://%s:%d" % (HOST, guardian.port)


def test_ui_overview_of_rabbitmq_through_the_guardian(guardian, admin, ui):
    ui.sign_in(base(guardian), *admin)
    ui.wait(role="heading", name="Overview")
    ui.wait_until("document.querySelector('h1 .sub')?.textContent.includes('RabbitMQ')")
    assert "RabbitMQ 3." in ui.text(role="heading", name="Overview")
    ui.wait(css=".cards .card")
    nav = ui.texts(css="nav a")
    for page in ("Overview", "Connections", "Queues", "Users", "Definitions", "Pulse",
                 "Inspector"):
        assert page in nav, nav
    ui.screenshot("overview")
    assert ui.eval("document.cookie") == ""


def test_ui_wrong_password_shows_rabbitmqs_reason(guardian, ui):
    ui.goto(base(guardian) + "/")
    ui.fill(label="Username", value="guest")
    ui.fill(label="Password", value="wrong")
    ui.click(role="button", name="Sign in")
    ui.text_with("Login failed", role="alert")


@pytest.mark.skipif(not os.path.exists(QUEUES_PAGE),
                    reason="web/ui/js/pages/queues.js is not in this tree yet (another helper's "
                           "page): the queues page through pulse-guardian is checked once it is")
def test_ui_queues_of_rabbitmq_through_the_guardian(guardian, node, admin, ui):
    """NOTE: written before the Queues page existed (issue 16, another helper's page): what it
    expects of that page (a table row per queue, an Owner column, a link to the queue's page)
    is a guess to check once the page is merged."""
    direct = HttpApi(node)
    tag = uuid.uuid4().hex[:6]
    names = ["queue/ui-g-%s/builds" % tag, "ui-g-%s-plain" % tag]
    conn = pika.BlockingConnection(pika.ConnectionParameters(HOST, node.port))
    try:
        ch = conn.channel()
        for name in names:
            ch.queue_declare(name)
            ch.basic_publish("", name, b"x")
        ui.sign_in(base(guardian), *admin)
        ui.goto(base(guardian) + "/#/queues?name=" + q("ui-g-" + tag))
        ui.wait(role="heading", name="Queues")
        for name in names:  # RabbitMQ lists a new queue after its statistics emission (~5 s)
            ui.wait(role="link", name=name, exact=True, timeout=30)
        assert any("Owner" in t for t in ui.texts(css="table th"))
        row = ui.text(role="row", name=names[0])
        assert "ui-g-%s" % tag in row.replace(names[0], "")  # the owner column
        ui.screenshot("queues")
        ui.click(role="link", name=names[0], exact=True)
        ui.wait(role="heading", name=names[0])
        ui.screenshot("queue")
    finally:
        conn.close()
        for name in names:
            direct.delete("/api/queues/%2F/" + q(name))
