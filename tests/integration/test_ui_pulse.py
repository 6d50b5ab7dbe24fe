"""The admin UI's Pulse pages in Debian's chromium against a pulsed of this module's own (the
Pulse layer and its guardian on): an owner made through the API signs in and sees only Pulse,
makes a Pulse user from the UI, connects with pika as that user, fills queue/<user>/q past a
low per-owner warning threshold and sees the guardian's warning on their page, then an
operator's notice sent through the API; an administrator makes an owner, changes it, sets
per-owner thresholds, an unbounded flag and a setting, and claims a namespace, all from the
UI. Every page is screenshotted as owner and as administrator."""
import time
import uuid

import pika
import pytest

from harness.broker import PulsedBroker, free_port
from harness.http_api import HttpApi, q
from harness.ui import ui_fixture

ui = pytest.fixture(ui_fixture)
P = "/api/pulse"
MAIN = {"role": "main"}  # the hidden sign-in form has a Password field too


@pytest.fixture(scope="module")
def pulse():
    b = PulsedBroker()
    b.port = free_port()
    # The guardian polls every 5 s (the default) unless a test asks for less through the API;
    # a new interval applies from the next poll on.
    b.config = {"pulse.accounts.connection_url": "amqp://127.0.0.1:%d" % b.port,
                "pulse.guardian.enabled": True, "pulse.guardian.interval": 5,
                "pulse.guardian.warn_queue_size": 1000, "pulse.guardian.delete_queue_size": 5000}
    b.start()
    yield b
    b.stop()


def base(b):
    return "http://127.0.0.1:%d" % b.http_port


def tag():
    return uuid.uuid4().hex[:8]


def owner_page(ui, b):
    ui.goto(base(b) + "/#/pulse")
    ui.wait(role="heading", name="Pulse")


def test_owner_makes_a_user_fills_its_queue_and_reads_the_guardians_notices(pulse, ui):
    admin = HttpApi(pulse)
    t = tag()
    email, user = "owner-%s@example.com" % t, "u%s" % t
    queue = "queue/%s/q" % user
    r = admin.put(P + "/owners/" + q(email), {"password": "ownerpw1", "display_name": "Olive " + t})
    assert r.status == 201, r
    try:
        ui.sign_in(base(pulse), email, "ownerpw1")
        ui.wait(role="heading", name="Pulse")
        # Only Pulse (and the inspector) in the navigation, no admin controls.
        assert ui.texts(css="nav#nav a") == ["Pulse", "Inspector"]
        assert ui.count(role="link", name="Owners", exact=True) == 0
        assert ui.count(role="region", name="Guardian", exact=True) == 0
        ui.screenshot("owner-01-pulse-empty")

        ui.fill(label="User name", value=user, within=MAIN)
        ui.fill(label="Password", value="userpw12", within=MAIN)
        ui.fill(label="Description", value="the UI test's user", within=MAIN)
        ui.click(role="button", name="Create user")
        ui.wait(role="link", name=user, exact=True)
        r = admin.get(P + "/users/" + user)
        assert r.status == 200 and r.json["owners"] == [email], r

        conn = pika.BlockingConnection(pika.ConnectionParameters(
            "127.0.0.1", pulse.port, credentials=pika.PlainCredentials(user, "userpw12")))
        ch = conn.channel()
        ch.confirm_delivery()
        ch.queue_declare(queue, durable=True, auto_delete=False)
        # A Pulse user writes to its own exchanges only (not the default one).
        exchange = "exchange/%s/x" % user
        ch.exchange_declare(exchange, "topic")
        ch.queue_bind(queue, exchange, "#")
        for _ in range(6):
            ch.basic_publish(exchange, "k", b"x")
        assert admin.put(P + "/guardian/owners/" + user, {"warn_queue_size": 3}).status == 200
        assert admin.put(P + "/guardian", {"interval": 1}).status == 200

        # The page refreshes itself: the warning shows without a reload.
        notices = {"role": "table", "name": "Notices"}
        ui.wait(text=queue, within=notices, timeout=30)
        rows = ui.rows(**notices)
        assert any(r[1] == "Warning" and r[2] == queue and r[3] == user for r in rows), rows
        thresholds = ui.rows(role="table", name="Thresholds in force")
        assert thresholds[0][:4] == [user, "3", "5,000", "this user"], thresholds
        users = ui.rows(role="table", name="Your Pulse users")
        assert users == [[user, "the UI test's user", "1", users[0][3]]], users
        ui.screenshot("owner-02-pulse-warning")

        # An operator's notice, sent through the API, shows on the owner's page.
        text = "Please drain %s before Friday." % queue
        r = admin.post(P + "/guardian/notices", {"vhost": "/", "queue": queue, "message": text})
        assert r.status == 201, r
        ui.wait(text=text, within=notices, timeout=15)
        assert "guest wrote:" in ui.text(text="guest wrote:")
        ui.screenshot("owner-03-pulse-operator-notice")

        # The user's page: its queue with its size, no link to a queue page this owner
        # cannot open.
        ui.click(role="link", name=user, exact=True, within={"role": "table", "name": "Your Pulse users"})
        ui.wait(role="heading", name=user)
        ui.wait(role="table", name="Queues of " + user)
        qrows = ui.rows(role="table", name="Queues of " + user)
        assert qrows[0][0] == queue and qrows[0][2] == "6", qrows
        assert ui.count(role="link", name=queue, exact=True) == 0
        ui.screenshot("owner-04-pulse-user")
        ui.fill(label="Description", value="changed from the UI", within=MAIN)
        ui.click(role="button", name="Save changes")
        ui.wait(text="Saved")
        assert admin.get(P + "/users/" + user).json["description"] == "changed from the UI"

        # Their own owner page, and the guardian page without controls.
        ui.goto(base(pulse) + "/#/pulse/owners/" + q(email))
        ui.wait(role="table", name="Their Pulse users")
        assert ui.count(label="Administrator") == 0
        ui.screenshot("owner-05-pulse-owner")
        # Another owner's thresholds are not this owner's business.
        assert admin.put(P + "/guardian/owners/x" + t, {"warn_queue_size": 9}).status == 200
        ui.goto(base(pulse) + "/#/pulse/guardian")
        ui.wait(role="table", name="Per-owner thresholds")
        assert ui.count(role="button", name="Save settings") == 0
        assert ui.count(role="button", name="Set thresholds") == 0
        assert ui.rows(role="table", name="Per-owner thresholds") == [[user, "3", "5,000", "the API"]]
        ui.screenshot("owner-06-pulse-guardian")

        # Deleting the user with its queues, from the UI.
        ui.goto(base(pulse) + "/#/pulse/users/" + user)
        ui.click(role="button", name="Delete this user")
        ui.check(label="Also delete its queues", within={"role": "dialog"})
        ui.click(role="button", name="Delete user")
        ui.wait(role="heading", name="Pulse")
        assert admin.get(P + "/users/" + user).status == 404
        assert admin.get("/api/queues/%2F/" + q(queue)).status == 404
        try:
            conn.close()
        except pika.exceptions.AMQPError:
            pass  # closed by the broker with the user
    finally:
        admin.put(P + "/guardian", {"interval": None})
        admin.delete(P + "/guardian/owners/" + user)
        admin.delete(P + "/guardian/owners/x" + t)
        admin.delete(P + "/users/%s?delete_queues=true" % user)
        admin.delete(P + "/owners/" + q(email))


def test_administrator_manages_owners_thresholds_flags_and_namespaces(pulse, ui):
    admin = HttpApi(pulse)
    t = tag()
    email = "made-%s@example.com" % t
    owner_name = "o%s" % t
    ns = "ns%s" % t
    try:
        ui.sign_in(base(pulse), "guest", "guest")
        owner_page(ui, pulse)
        ui.wait(role="region", name="Guardian")
        ui.wait(role="link", name="Owners", exact=True)
        ui.screenshot("admin-01-pulse")

        ui.click(role="link", name="Owners", exact=True)
        ui.wait(role="heading", name="Pulse owners")
        ui.fill(label="Email", value=email, within=MAIN)
        ui.fill(label="Display name", value="Made " + t, within=MAIN)
        ui.fill(label="Password", value="madepw12", within=MAIN)
        ui.click(role="button", name="Create owner")
        ui.wait(role="link", name=email, exact=True)
        r = admin.get(P + "/owners/" + q(email))
        assert r.status == 200 and r.json["display_name"] == "Made " + t and r.json["admin"] is False
        ui.screenshot("admin-02-pulse-owners")

        ui.click(role="link", name=email, exact=True)
        ui.wait(role="heading", name="Made " + t)
        ui.fill(label="Display name", value="Renamed " + t, within=MAIN)
        ui.check(label="Administrator", within=MAIN)
        ui.click(role="button", name="Save changes")
        ui.wait(role="heading", name="Renamed " + t)
        r = admin.get(P + "/owners/" + q(email)).json
        assert r["display_name"] == "Renamed " + t and r["admin"] is True, r
        ui.screenshot("admin-03-pulse-owner")

        ui.goto(base(pulse) + "/#/pulse/guardian")
        thresholds = {"role": "form", "name": "Set owner thresholds"}
        ui.fill(label="Owner", value=owner_name, within=thresholds)
        ui.fill(label="Warn over", value="7", within=thresholds)
        ui.fill(label="Delete over", value="70", within=thresholds)
        ui.click(role="button", name="Set thresholds")
        ui.wait(role="button", name="Clear thresholds of " + owner_name)
        r = admin.get(P + "/guardian/owners/" + owner_name)
        assert r.json == {"warn_queue_size": 7, "delete_queue_size": 70}, r
        flag = {"role": "form", "name": "Mark a queue unbounded"}
        uq = "queue/%s/big" % owner_name
        ui.fill(label="Queue", value=uq, within=flag)
        ui.click(role="button", name="Mark unbounded")
        ui.wait(role="button", name="Remove unbounded flag of " + uq)
        r = admin.get(P + "/guardian/unbounded/%2F/" + q(uq))
        assert r.status == 200 and r.json["set_by"] == "api", r
        ui.fill(role="spinbutton", name="Warning threshold", value="900")
        ui.click(role="button", name="Save settings")
        # The Clear button is always there (disabled without an override): the save is done
        # once it is enabled.
        ui.wait_until("!document.querySelector('[aria-label=\"Clear Warning threshold\"]')"
                      ".disabled")
        assert admin.get(P + "/guardian").json["overrides"]["warn_queue_size"] == 900
        ui.screenshot("admin-04-pulse-guardian")
        ui.click(role="button", name="Clear Warning threshold")
        wait_until(lambda: admin.get(P + "/guardian").json["overrides"]["warn_queue_size"] is None)
        ui.click(role="button", name="Remove unbounded flag of " + uq)
        ui.wait(role="button", name="Remove unbounded flag of " + uq, state="detached")
        assert admin.get(P + "/guardian/unbounded/%2F/" + q(uq)).status == 404
        ui.click(role="button", name="Clear thresholds of " + owner_name)
        ui.wait(role="button", name="Clear thresholds of " + owner_name, state="detached")
        assert admin.get(P + "/guardian/owners/" + owner_name).status == 404

        ui.goto(base(pulse) + "/#/pulse/namespaces")
        ui.fill(role="textbox", name="Namespace", exact=True, value=ns)
        ui.fill(label="Contact", value="ops@example.com", within=MAIN)
        ui.click(role="button", name="Claim or refresh")
        ui.wait(role="region", name="New credentials")
        password = ui.text(css=".secret dd:nth-of-type(2) code")
        user = ui.text(css=".secret dd:nth-of-type(1) code")
        conn = pika.BlockingConnection(pika.ConnectionParameters(
            "127.0.0.1", pulse.port, credentials=pika.PlainCredentials(user, password)))
        conn.close()
        ui.wait(role="button", name="Release " + ns)
        ui.screenshot("admin-05-pulse-namespaces")
        assert ns in [c["namespace"] for c in admin.get(P + "/namespaces").json]
        ui.click(role="button", name="Release " + ns)
        ui.click(role="button", name="Release", exact=True, within={"role": "dialog"})
        ui.wait(role="button", name="Release " + ns, state="detached")
        assert admin.get(P + "/namespaces/" + ns).status == 404

        # An administrator's view of a Pulse user: its queue links to the queue page.
        r = admin.put(P + "/users/" + owner_name, {"password": "userpw12", "owner": email})
        assert r.status == 201, r
        c = pika.BlockingConnection(pika.ConnectionParameters(
            "127.0.0.1", pulse.port, credentials=pika.PlainCredentials(owner_name, "userpw12")))
        c.channel().queue_declare("queue/%s/seen" % owner_name)
        ui.goto(base(pulse) + "/#/pulse/users/" + owner_name)
        ui.wait(role="link", name="queue/%s/seen" % owner_name)
        assert ui.attr("href", role="link", name="queue/%s/seen" % owner_name) == \
            "#/queues/%2F/" + q("queue/%s/seen" % owner_name)
        ui.screenshot("admin-06-pulse-user")
        seen = "queue/%s/seen" % owner_name
        ui.click(role="button", name="Notify the owner of " + seen)
        ui.fill(label="Message", value="Nobody reads " + seen, within={"role": "dialog"})
        ui.click(role="button", name="Send notice")
        ui.wait(text="Notice sent")
        sent = [n for n in admin.get(P + "/guardian/notices?owner=" + owner_name).json
                if n["event"] == "operator"]
        assert [(n["queue"], n["message"], n["operator"]) for n in sent] == \
            [(seen, "Nobody reads " + seen, "guest")], sent
        c.close()

        # An owner who still owns a user cannot go (the server's reason shows); then it can.
        ui.goto(base(pulse) + "/#/pulse/owners")
        ui.click(role="button", name="Delete owner " + email)
        ui.click(role="button", name="Delete owner", exact=True, within={"role": "dialog"})
        ui.wait(text="still owns")
        assert admin.get(P + "/owners/" + q(email)).status == 200
        assert admin.delete(P + "/users/%s?delete_queues=true" % owner_name).status == 204
        ui.click(role="button", name="Delete owner " + email)
        ui.click(role="button", name="Delete owner", exact=True, within={"role": "dialog"})
        ui.wait(role="link", name=email, exact=True, state="detached")
        assert admin.get(P + "/owners/" + q(email)).status == 404
    finally:
        admin.put(P + "/guardian", {"warn_queue_size": None})
        admin.delete(P + "/guardian/owners/" + owner_name)
        admin.delete(P + "/namespaces/" + ns)
        admin.delete(P + "/users/%s?delete_queues=true" % owner_name)
        admin.delete(P + "/owners/" + q(email))


def wait_until(predicate, timeout=10):
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, "condition not met in %s s" % timeout
        time.sleep(0.2)
