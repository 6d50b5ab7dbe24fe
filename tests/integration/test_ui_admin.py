"""The admin UI's administration pages in Debian's chromium against pulsed: users (add, tags,
permissions, topic permissions, limits, delete), virtual hosts (add, permissions, limits,
clone topology, delete), policies (add, update, delete), the limits page and definitions
(export as a download, import by file upload). Each test asserts what the page shows and
what the broker then holds (management API, AMQP with pika)."""
import json
import os
import re
import time
import uuid

import pika
import pytest

from harness.http_api import HttpApi, q
from harness.ui import ui_fixture

ui = pytest.fixture(ui_fixture)


def base(broker):
    return "http://127.0.0.1:%d" % broker.http_port


def uid(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def ok(r, *codes):
    assert r.status in (codes or (200, 201, 204)), r
    return r


def eventually(fn, timeout=10.0):
    """fn() until truthy (the UI's actions and the API's stats are asynchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(0.1)


def connect_error(broker, user, password, vhost):
    try:
        broker.connect(user, password, vhost).close()
    except Exception as e:  # pika wraps the broker's close in Probable*Error
        return e
    return None


def in_form(name):
    return {"role": "form", "name": name}


def wait_toast(ui, text):
    ui.wait_until("Array.from(document.querySelectorAll('#toasts .toast')).some(e => e.textContent.includes(%s))"
                  % json.dumps(text))


def test_user_created_and_permitted_from_the_ui(broker, ui):
    api = HttpApi(broker)
    user, allowed, denied = uid("ui-adm-u"), uid("ui-adm-ok"), uid("ui-adm-no")
    for v in (allowed, denied):
        ok(api.put("/api/vhosts/" + q(v), {}))
    try:
        ui.sign_in(base(broker), "guest", "guest")
        ui.goto(base(broker) + "/#/users")
        ui.wait(role="heading", name="Users")
        ui.wait(role="table", name="Users")
        form = in_form("Add a user")
        ui.fill(label="Username", value=user, within=form)
        ui.fill(label="Password", exact=True, value="pw-" + user, within=form)
        ui.click(role="button", name="Add tag monitoring", within=form)
        ui.click(role="button", name="Add tag policymaker", within=form)
        assert ui.eval("document.querySelector('form[aria-label=\"Add a user\"] input[name=tags]').value") \
            == "monitoring, policymaker"
        ui.click(role="button", name="Add user")
        ui.wait(role="link", name=user, exact=True)
        row = [r for r in ui.rows(role="table", name="Users") if r[0] == user][0]
        assert row[1:3] == ["monitoring policymaker", "yes"], row
        assert "no access" in row[3]
        ui.screenshot("users")
        u = ok(api.get("/api/users/" + q(user))).json
        assert sorted(u["tags"]) == ["monitoring", "policymaker"]
        assert u["password_hash"]

        ui.click(role="link", name=user, exact=True)
        ui.wait(role="heading", name="User " + user)
        ui.wait(role="table", name="Permissions of " + user)
        perm = in_form("Set permission")
        ui.select(label="Virtual host", value=allowed, within=perm)
        ui.click(role="button", name="Set permission")
        ui.wait(role="button", name="Clear permissions of %s on %s" % (user, allowed))
        rows = ui.rows(role="table", name="Permissions of " + user)
        assert [r[:4] for r in rows] == [[allowed, ".*", ".*", ".*"]], rows
        p = ok(api.get("/api/permissions/%s/%s" % (q(allowed), q(user)))).json
        assert (p["configure"], p["write"], p["read"]) == (".*", ".*", ".*")
        # The user now works over AMQP on that vhost, and only there.
        c = broker.connect(user, "pw-" + user, allowed)
        assert c.is_open
        c.close()
        e = connect_error(broker, user, "pw-" + user, denied)
        assert isinstance(e, pika.exceptions.ProbableAccessDeniedError), repr(e)
        assert "access to vhost '%s' refused for user '%s'" % (denied, user) in str(e)

        # Topic permissions and limits.
        topic = in_form("Set topic permission")
        ui.select(label="Virtual host", value=allowed, within=topic)
        ui.fill(label="Write regexp", value="^ui\\.", within=topic)
        ui.click(role="button", name="Set topic permission")
        ui.wait(role="button", name="Clear topic permissions on " + allowed)
        tp = ok(api.get("/api/users/%s/topic-permissions" % q(user))).json
        assert [(t["vhost"], t["exchange"], t["write"], t["read"]) for t in tp] == \
            [(allowed, "amq.topic", "^ui\\.", ".*")]
        ui.fill(role="spinbutton", name="max-connections", value="3")
        ui.click(role="button", name="Set max-connections")
        assert eventually(lambda: api.get("/api/user-limits/" + q(user)).json ==
                          [{"user": user, "value": {"max-connections": 3}}])
        ui.wait_until("!document.querySelector('button[aria-label=\"Clear max-connections\"]').disabled")
        ui.fill(role="spinbutton", name="max-channels", value="1.5")
        ui.click(role="button", name="Set max-channels")
        wait_toast(ui, "A limit is a whole number")
        ui.screenshot("user")
        ui.click(role="button", name="Clear max-connections")
        assert eventually(lambda: api.get("/api/user-limits/" + q(user)).json == [])

        # Tags change keeps the password; clearing a permission removes it.
        ui.fill(role="combobox", name="Tags", value="management", within=in_form("Change tags"))
        ui.click(role="button", name="Save tags")
        assert eventually(lambda: api.get("/api/users/" + q(user)).json["tags"] == ["management"])
        assert api.get("/api/users/" + q(user)).json["password_hash"] == u["password_hash"]
        ui.click(role="button", name="Clear permissions of %s on %s" % (user, allowed))
        assert eventually(lambda: api.get("/api/permissions/%s/%s" % (q(allowed), q(user))).status == 404)

        ui.click(role="button", name="Delete user")
        assert user in ui.text(role="dialog")
        ui.click(role="button", name="Delete", exact=True, within={"role": "dialog"})
        ui.wait(role="heading", name="Users")
        assert api.get("/api/users/" + q(user)).status == 404
    finally:
        api.delete("/api/users/" + q(user))
        for v in (allowed, denied):
            api.delete("/api/vhosts/" + q(v))


def test_user_without_password(broker, ui):
    api = HttpApi(broker)
    user = uid("ui-adm-nopw")
    try:
        ui.sign_in(base(broker), "guest", "guest")
        ui.goto(base(broker) + "/#/users")
        form = in_form("Add a user")
        ui.fill(label="Username", value=user, within=form)
        ui.click(role="button", name="Add user")
        # Neither password nor "no password": the browser refuses the form, nothing is made.
        assert ui.eval("document.querySelector('form[aria-label=\"Add a user\"] input[name=password]')"
                       ".validationMessage") != ""
        assert api.get("/api/users/" + q(user)).status == 404
        ui.check(label="No password", within=form)
        ui.click(role="button", name="Add user")
        ui.wait(role="link", name=user, exact=True)
        u = ok(api.get("/api/users/" + q(user))).json
        assert u["password_hash"] == "" and u["tags"] == []
    finally:
        api.delete("/api/users/" + q(user))


def definitions_file(tmp_path, vhost, tag):
    d = {
        "vhosts": [{"name": vhost}],
        "permissions": [{"user": "guest", "vhost": vhost, "configure": ".*", "write": ".*", "read": ".*"}],
        "exchanges": [{"name": "ex-" + tag, "vhost": vhost, "type": "topic", "durable": True,
                       "auto_delete": False, "internal": False, "arguments": {}}],
        "queues": [{"name": "q-" + tag, "vhost": vhost, "durable": True, "auto_delete": False,
                    "arguments": {}}],
        "bindings": [{"source": "ex-" + tag, "vhost": vhost, "destination": "q-" + tag,
                      "destination_type": "queue", "routing_key": "a.#", "arguments": {}}],
        "policies": [{"vhost": vhost, "name": "pol-" + tag, "pattern": "^q-", "apply-to": "queues",
                      "definition": {"max-length": 5}, "priority": 1}],
    }
    p = tmp_path / ("defs-%s.json" % tag)
    p.write_text(json.dumps(d))
    return str(p)


def test_definitions_import_and_export(broker, ui, tmp_path):
    api = HttpApi(broker)
    tag = uuid.uuid4().hex[:8]
    vhost = "ui-adm-defs-" + tag
    try:
        ui.sign_in(base(broker), "guest", "guest")
        ui.goto(base(broker) + "/#/definitions")
        ui.wait(role="heading", name="Definitions")
        ui.screenshot("definitions")
        ui.upload(definitions_file(tmp_path, vhost, tag), label="Definitions file")
        ui.click(role="button", name="Upload definitions")
        ui.wait(text="Imported defs-%s.json" % tag)
        v = q(vhost)
        ok(api.get("/api/vhosts/" + v))
        assert ok(api.get("/api/exchanges/%s/ex-%s" % (v, tag))).json["type"] == "topic"
        ok(api.get("/api/queues/%s/q-%s" % (v, tag)))
        b = ok(api.get("/api/bindings/%s/e/ex-%s/q/q-%s" % (v, tag, tag))).json
        assert [x["routing_key"] for x in b] == ["a.#"]
        assert ok(api.get("/api/policies/%s/pol-%s" % (v, tag))).json["definition"] == {"max-length": 5}

        # A broken file: the server's reason, and nothing of it is made.
        broken = tmp_path / "broken.json"
        broken.write_text('{"queues": [{"name": "q-broken-%s", "vhost": "%s", "durable": true}' % (tag, vhost))
        ui.upload(str(broken), label="Definitions file")
        ui.click(role="button", name="Upload definitions")
        alert = ui.text(css=".import-result [role=alert]")
        assert alert.startswith("Import of broken.json refused: "), alert
        reason = api.request("POST", "/api/definitions", raw_body=broken.read_bytes(),
                           headers={"Content-Type": "application/json"})
        assert reason.status == 400 and reason.json["reason"] in alert, (reason, alert)
        assert api.get("/api/queues/%s/q-broken-%s" % (v, tag)).status == 404
        ui.screenshot("definitions-import-refused")

        # Export: a download of valid JSON holding the imported queue, named as RabbitMQ's UI does.
        node = api.get("/api/overview").json["node"]
        path = ui.download(role="button", name="Download definitions")
        name = os.path.basename(path)
        assert re.fullmatch(re.escape(node.replace("@", "_")) + r"_\d{4}-\d{1,2}-\d{1,2}\.json", name), name
        with open(path) as f:
            d = json.load(f)
        assert {"name": "q-" + tag, "vhost": vhost} in [{"name": x["name"], "vhost": x["vhost"]} for x in d["queues"]]
        assert "Downloaded " + name in ui.text(css="form[aria-label='Export definitions'] + [role=status]")
        # One vhost's export: its objects carry no vhost.
        ui.select(label="Virtual host", value=vhost, within=in_form("Export definitions"))
        path = ui.download(role="button", name="Download definitions")
        with open(path) as f:
            d = json.load(f)
        assert [x["name"] for x in d["queues"]] == ["q-" + tag] and "vhost" not in d["queues"][0]
    finally:
        api.delete("/api/vhosts/" + q(vhost))


def test_vhost_add_clone_limit_delete(broker, ui):
    api = HttpApi(broker)
    tag = uuid.uuid4().hex[:8]
    vhost, clone = "ui-adm-vh-" + tag, "ui-adm-clone-" + tag
    v, cv = q(vhost), q(clone)
    try:
        ui.sign_in(base(broker), "guest", "guest")
        ui.goto(base(broker) + "/#/vhosts")
        ui.wait(role="table", name="Virtual hosts")
        form = in_form("Add a virtual host")
        ui.fill(label="Name", value=vhost, within=form)
        ui.fill(label="Description", value="staging " + tag, within=form)
        ui.fill(label="Tags", value="ui, test", within=form)
        ui.click(role="button", name="Add virtual host")
        ui.wait(role="link", name=vhost, exact=True)
        got = ok(api.get("/api/vhosts/" + v)).json
        assert got["description"] == "staging " + tag and sorted(got["tags"]) == ["test", "ui"]
        # Topology and one message, made over the API and AMQP (guest got permissions as creator).
        ok(api.put("/api/exchanges/%s/ex" % v, {"type": "topic", "durable": True}))
        ok(api.put("/api/queues/%s/q1" % v, {"durable": True}))
        ok(api.post("/api/bindings/%s/e/ex/q/q1" % v, {"routing_key": "k.#"}))
        ok(api.put("/api/policies/%s/pol" % v, {"pattern": "^q", "apply-to": "queues",
                                                "definition": {"max-length": 9}, "priority": 2}))
        c = broker.connect("guest", "guest", vhost)
        c.channel().basic_publish("ex", "k.1", b"hello")
        c.close()
        assert eventually(lambda: api.get("/api/vhosts/" + v).json.get("messages") == 1)
        ui.goto(base(broker) + "/#/vhosts")
        ui.wait_until("Array.from(document.querySelectorAll('table.grid tbody tr')).some("
                      "tr => tr.cells[0].innerText === %s && tr.innerText.includes('staging'))"
                      % json.dumps(vhost))
        ui.screenshot("vhosts")

        ui.click(role="link", name=vhost, exact=True)
        ui.wait(role="heading", name="Virtual host " + vhost)
        ui.wait(role="table", name="Permissions on " + vhost)
        assert ["guest", ".*", ".*", ".*"] in [r[:4] for r in ui.rows(role="table", name="Permissions on " + vhost)]
        ui.fill(role="spinbutton", name="max-queues", value="5")
        ui.click(role="button", name="Set max-queues")
        assert eventually(lambda: api.get("/api/vhost-limits/" + v).json == [{"vhost": vhost, "value": {"max-queues": 5}}])
        ui.fill(label="New virtual host", value=clone)
        ui.click(role="button", name="Clone topology")
        ui.wait(text="Copied ")
        msg = ui.text(css=".clone-result")
        assert msg == "Copied 1 exchanges, 1 queues, 1 bindings and 1 policies to %s (no messages)." % clone, msg
        ui.screenshot("vhost")
        assert ok(api.get("/api/exchanges/%s/ex" % cv)).json["type"] == "topic"
        assert ok(api.get("/api/queues/%s/q1" % cv)).json.get("messages", 0) == 0
        assert [b["routing_key"] for b in ok(api.get("/api/bindings/%s/e/ex/q/q1" % cv)).json] == ["k.#"]
        pol = ok(api.get("/api/policies/%s/pol" % cv)).json
        assert (pol["pattern"], pol["definition"], pol["priority"]) == ("^q", {"max-length": 9}, 2)
        assert api.get("/api/vhost-limits/" + cv).json == []  # limits are not topology
        # The clone's queue is empty; its source keeps its message.
        c = broker.connect("guest", "guest", clone)
        assert c.channel().queue_declare("q1", passive=True).method.message_count == 0
        c.close()

        # Cloning onto an existing name: the reason, not a silent merge.
        ui.fill(label="New virtual host", value=clone)
        ui.click(role="button", name="Clone topology")
        ui.wait(text="Virtual host %s already exists" % clone)

        ui.click(role="button", name="Delete virtual host")
        text = ui.text(role="dialog")
        assert "Delete virtual host %s?" % vhost in text and "1 queue and 1 message" in text, text
        ui.screenshot("vhost-delete-confirm")
        ui.click(role="button", name="Delete", exact=True, within={"role": "dialog"})
        ui.wait(role="heading", name="Virtual hosts")
        assert api.get("/api/vhosts/" + v).status == 404
        ui.goto(base(broker) + "/#/vhosts/" + cv)
        ui.wait(role="heading", name="Virtual host " + clone)
        ui.click(role="button", name="Delete virtual host")
        assert "1 queue and 0 messages" in ui.text(role="dialog")
        ui.click(role="button", name="Delete", exact=True, within={"role": "dialog"})
        ui.wait(role="heading", name="Virtual hosts")
        assert api.get("/api/vhosts/" + cv).status == 404
    finally:
        api.delete("/api/vhosts/" + v)
        api.delete("/api/vhosts/" + cv)


def test_policies_and_limits_pages(broker, ui):
    api = HttpApi(broker)
    tag = uuid.uuid4().hex[:8]
    vhost, name = "ui-adm-pol-" + tag, "pol-" + tag
    v = q(vhost)
    ok(api.put("/api/vhosts/" + v, {}))
    try:
        ui.sign_in(base(broker), "guest", "guest")
        ui.goto(base(broker) + "/#/policies")
        ui.wait(role="table", name="Policies")
        form = in_form("Add policy")
        ui.select(label="Virtual host", value=vhost, within=form)
        ui.fill(label="Name", value=name, within=form)
        ui.fill(label="Pattern", value="^jobs\\.", within=form)
        ui.select(label="Apply to", value="queues", within=form)
        ui.fill(label="Priority", value="3", within=form)
        ui.fill(label="Definition 1 key", value="max-length")
        ui.press("Tab", label="Definition 1 key")
        assert ui.eval("document.querySelector('[role=group][aria-label=\"Definition 1\"] select').value") == "number"
        ui.fill(label="Definition 1 value", value="ten")
        ui.click(role="button", name="Add policy")
        ui.text_with('max-length: "ten" is not a number', role="alert", within=form)
        assert api.get("/api/policies/%s/%s" % (v, name)).status == 404
        ui.fill(label="Definition 1 value", value="10")
        ui.click(role="button", name="Add definition", exact=True)
        ui.fill(label="Definition 2 key", value="lazy")
        ui.select(label="Definition 2 type", value="boolean")
        ui.fill(label="Definition 2 value", value="true")
        ui.click(role="button", name="Add policy")
        # A key the broker does not know: its reason, nothing stored.
        refused = api.put("/api/policies/%s/%s" % (v, name), {"pattern": "^jobs\\.", "definition": {"max-length": 10, "lazy": True}})
        assert refused.status == 400, refused
        wait_toast(ui, refused.json["reason"].splitlines()[0])
        assert api.get("/api/policies/%s/%s" % (v, name)).status == 404
        ui.click(role="button", name="Remove definition 2")
        ui.click(role="button", name="Add definition", exact=True)
        ui.fill(label="Definition 3 key", value="dead-letter-exchange")
        ui.press("Tab", label="Definition 3 key")
        ui.fill(label="Definition 3 value", value="dlx")
        ui.click(role="button", name="Add policy")
        ui.wait(role="link", name=name, exact=True)
        p = ok(api.get("/api/policies/%s/%s" % (v, name))).json
        assert (p["pattern"], p["apply-to"], p["priority"]) == ("^jobs\\.", "queues", 3)
        assert p["definition"] == {"max-length": 10, "dead-letter-exchange": "dlx"}
        ui.select(label="Virtual host shown", value=vhost)
        ui.wait(role="table", name="Policies on " + vhost)
        rows = ui.rows(role="table", name="Policies on " + vhost)
        # (the definition cell holds a key/value table of its own: its rows are shorter)
        assert [r[:5] for r in rows if len(r) > 2] == [[vhost, name, "^jobs\\.", "queues", "3"]], rows
        ui.screenshot("policies")

        ui.click(role="link", name=name, exact=True)
        ui.wait(role="heading", name="Policy %s on %s" % (name, vhost))
        ui.fill(label="Priority", value="4")
        ui.click(role="button", name="Update policy")
        assert eventually(lambda: api.get("/api/policies/%s/%s" % (v, name)).json["priority"] == 4)
        ui.screenshot("policy")
        ui.click(role="button", name="Delete policy")
        assert name in ui.text(role="dialog")
        ui.click(role="button", name="Delete", exact=True, within={"role": "dialog"})
        ui.wait(role="heading", name="Policies")
        assert api.get("/api/policies/%s/%s" % (v, name)).status == 404

        # The limits page: set and clear a vhost limit.
        ui.goto(base(broker) + "/#/limits")
        ui.wait(role="table", name="Virtual host limits")
        lf = in_form("Set a vhost limit")
        ui.select(label="Virtual host", value=vhost, within=lf)
        ui.select(label="Limit", value="max-connections", within=lf)
        ui.fill(label="Value", value="7", within=lf)
        ui.click(role="button", name="Set virtual host limit")
        ui.wait(role="button", name="Clear max-connections of " + vhost)
        assert api.get("/api/vhost-limits/" + v).json == [{"vhost": vhost, "value": {"max-connections": 7}}]
        ui.screenshot("limits")
        ui.click(role="button", name="Clear max-connections of " + vhost)
        ui.wait(role="button", name="Clear max-connections of " + vhost, state="detached")
        assert api.get("/api/vhost-limits/" + v).json == []
    finally:
        api.delete("/api/vhosts/" + v)


def test_clone_topology_calls_on_both_brokers(pulse_target):
    """The vhost page's "Clone topology" as API calls (vhost.js topologyOf + import): one
    vhost's export, its objects without vhost, PUT of the new vhost, POST of the body to
    /api/definitions/<new>. RabbitMQ 3.10 takes the same per-vhost export and import."""
    api = HttpApi(pulse_target.broker)
    tag = uuid.uuid4().hex[:8]
    src, dst = "ui-adm-src-" + tag, "ui-adm-dst-" + tag
    s, d = q(src), q(dst)
    try:
        ok(api.put("/api/vhosts/" + s, {}))
        ok(api.put("/api/exchanges/%s/ex" % s, {"type": "topic", "durable": True}))
        ok(api.put("/api/queues/%s/q1" % s, {"durable": True, "arguments": {"x-max-length": 4}}))
        ok(api.post("/api/bindings/%s/e/ex/q/q1" % s, {"routing_key": "k.#"}))
        ok(api.put("/api/policies/%s/pol" % s, {"pattern": "^q", "apply-to": "queues",
                                                "definition": {"max-length": 9}, "priority": 2}))
        export = ok(api.get("/api/definitions/" + s)).json
        body = {k: [{f: v for f, v in x.items() if f != "vhost"} for x in export.get(k, [])]
                for k in ("exchanges", "queues", "bindings", "policies")}
        assert [len(body[k]) for k in ("exchanges", "queues", "bindings", "policies")] == [1, 1, 1, 1], export
        ok(api.put("/api/vhosts/" + d, {"description": "Topology copy of " + src, "tags": ""}))
        ok(api.post("/api/definitions/" + d, body))
        assert ok(api.get("/api/exchanges/%s/ex" % d)).json["type"] == "topic"
        assert ok(api.get("/api/queues/%s/q1" % d)).json["arguments"] == {"x-max-length": 4}
        assert [b["routing_key"] for b in ok(api.get("/api/bindings/%s/e/ex/q/q1" % d)).json] == ["k.#"]
        assert ok(api.get("/api/policies/%s/pol" % d)).json["definition"] == {"max-length": 9}
    finally:
        api.delete("/api/vhosts/" + s)
        api.delete("/api/vhosts/" + d)


def test_policymaker_sees_and_sets_policies(broker, ui):
    api = HttpApi(broker)
    tag = uuid.uuid4().hex[:8]
    user, vhost, name = "ui-adm-pm-" + tag, "ui-adm-pmv-" + tag, "pm-pol-" + tag
    ok(api.put("/api/vhosts/" + q(vhost), {}))
    ok(api.put("/api/users/" + q(user), {"password": "pw", "tags": "policymaker"}))
    ok(api.put("/api/permissions/%s/%s" % (q(vhost), q(user)), {"configure": ".*", "write": ".*", "read": ".*"}))
    try:
        ui.sign_in(base(broker), user, "pw")
        nav = ui.texts(css="nav a")
        assert "Policies" in nav and "Users" not in nav and "Definitions" not in nav, nav
        ui.click(role="link", name="Policies", exact=True)
        ui.wait(role="table", name="Policies")
        form = in_form("Add policy")
        ui.select(label="Virtual host", value=vhost, within=form)
        ui.fill(label="Name", value=name, within=form)
        ui.fill(label="Pattern", value=".*", within=form)
        ui.fill(label="Definition 1 key", value="message-ttl")
        ui.press("Tab", label="Definition 1 key")
        ui.fill(label="Definition 1 value", value="60000")
        ui.click(role="button", name="Add policy")
        ui.wait(role="link", name=name, exact=True)
        assert ok(api.get("/api/policies/%s/%s" % (q(vhost), q(name)))).json["definition"] == {"message-ttl": 60000}
        ui.screenshot("policies-policymaker")
    finally:
        api.delete("/api/users/" + q(user))
        api.delete("/api/vhosts/" + q(vhost))
