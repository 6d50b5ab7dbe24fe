"""Vhost and user limits in definitions export and import (pulsed and a private RabbitMQ 3.10
node), and across a pulsed restart (pulsed's own)."""
import pika
import pytest

from harness.broker import PulsedBroker
from harness.http_api import HttpApi, q
from harness.limits import (PASSWORD, assert_close, channel_text, close_all, ok, open_reply,
                            user_limit, vhost_conn_text, vhost_limit)
from harness.limits import admin, target, user, vhost  # noqa: F401 (fixtures)


def _reason_text(reason):
    """RabbitMQ writes some import errors as [tag, [char codes]]."""
    if isinstance(reason, list) and len(reason) == 2 and isinstance(reason[1], list):
        return "".join(map(chr, reason[1]))
    return reason


def test_definitions_export_and_import(admin, vhost, user):
    v = vhost()
    u = user(vhosts=(v,))
    ok(vhost_limit(admin, v, "max-connections", 4), 204)
    ok(vhost_limit(admin, v, "max-queues", 6), 204)
    ok(user_limit(admin, u, "max-connections", 2), 204)
    param = {"value": {"max-connections": 4, "max-queues": 6}, "vhost": v,
             "component": "vhost-limits", "name": "limits"}
    full = admin.get("/api/definitions").json
    assert param in full["parameters"]
    users = [x for x in full["users"] if x["name"] == u]
    assert len(users) == 1 and users[0]["limits"] == {"max-connections": 2}
    assert all("limits" in x for x in full["users"])
    # The one-vhost export keeps "vhost" in its parameters.
    assert admin.get("/api/definitions/" + q(v)).json["parameters"] == [param]

    # Round trip: what the export wrote puts the limits back.
    defs = {"vhosts": [{"name": v}], "users": users, "parameters": [param]}
    for p in ("max-connections", "max-queues"):
        ok(admin.delete("/api/vhost-limits/%s/%s" % (q(v), p)), 204)
    ok(admin.delete("/api/user-limits/%s/max-connections" % q(u)), 204)
    ok(admin.post("/api/definitions", defs))
    assert admin.get("/api/vhost-limits/" + q(v)).json == [
        {"vhost": v, "value": {"max-connections": 4, "max-queues": 6}}]
    assert admin.get("/api/user-limits/" + q(u)).json == [
        {"user": u, "value": {"max-connections": 2}}]

    # An imported vhost-limits parameter replaces the vhost's limits; a user's limits are
    # merged into its own, and an empty or missing "limits" leaves them alone.
    users[0]["limits"] = {"max-channels": 1}
    ok(admin.post("/api/definitions", {"users": users, "parameters": [
        dict(param, value={"max-queues": 1})]}))
    assert admin.get("/api/vhost-limits/" + q(v)).json == [
        {"vhost": v, "value": {"max-queues": 1}}]
    both = [{"user": u, "value": {"max-channels": 1, "max-connections": 2}}]
    assert admin.get("/api/user-limits/" + q(u)).json == both
    for limits in ({}, None):
        entry = dict(users[0])
        if limits is None:
            del entry["limits"]
        else:
            entry["limits"] = limits
        ok(admin.post("/api/definitions", {"users": [entry]}))
        assert admin.get("/api/user-limits/" + q(u)).json == both

    # Invalid limits refuse the import.
    r = admin.post("/api/definitions", {"parameters": [dict(param, value={"max-queues": "x"})]})
    assert r.status == 400
    assert "max-queues should be a number, actually was &lt;&lt;\"x\"&gt;&gt;" in r.json["reason"]
    r = admin.post("/api/definitions", {"parameters": [dict(param, value={"max-queuez": 1})]})
    assert r.status == 400
    assert "Unrecognised terms [{&lt;&lt;\"max-queuez\"&gt;&gt;,1}] in limits" in r.json["reason"]
    assert admin.get("/api/vhost-limits/" + q(v)).json == [
        {"vhost": v, "value": {"max-queues": 1}}]

    # Queues past max-queues stop the import once its users and vhosts are in (RabbitMQ's
    # validate_limits), before permissions, parameters, policies, queues...
    ok(vhost_limit(admin, v, "max-queues", 0), 204)
    r = admin.post("/api/definitions", {
        "vhosts": [{"name": v}],
        "users": [dict(users[0], limits={"max-channels": 5})],
        "queues": [{"name": "iq", "vhost": v, "durable": True, "auto_delete": False,
                    "arguments": {}}]})
    assert r.status == 400
    assert _reason_text(r.json["reason"]) == (
        "Adding 1 queue(s) to virtual host \"%s\" would exceed the limit of 0 queue(s).\n\n"
        "This virtual host currently has 0 queue(s) defined.\n\nImport aborted!" % v)
    assert admin.get("/api/queues/%s/iq" % q(v)).status == 404
    assert admin.get("/api/user-limits/" + q(u)).json == [
        {"user": u, "value": {"max-channels": 5, "max-connections": 2}}]


@pytest.mark.pulsed_only
def test_limits_survive_restart(tmp_path):
    b = PulsedBroker()
    b.start()
    try:
        api = HttpApi(b)
        for v in ("kept", "emptied", "gone"):
            ok(api.put("/api/vhosts/" + v), 201)
        ok(api.put("/api/users/limbob", {"password": PASSWORD, "tags": ""}), 201)
        ok(api.put("/api/permissions/kept/limbob", {"configure": ".*", "write": ".*",
                                                  "read": ".*"}), 201)
        ok(vhost_limit(api, "kept", "max-connections", 1), 204)
        ok(vhost_limit(api, "kept", "max-queues", 3), 204)
        ok(vhost_limit(api, "emptied", "max-queues", 3), 204)
        ok(api.delete("/api/vhost-limits/emptied/max-queues"), 204)
        ok(vhost_limit(api, "gone", "max-queues", 3), 204)
        ok(api.delete("/api/vhosts/gone"), 204)
        ok(user_limit(api, "limbob", "max-channels", 1), 204)
        ok(user_limit(api, "limbob", "max-connections", 5), 204)
        ok(user_limit(api, "guest", "max-channels", 4), 204)
        ok(api.delete("/api/user-limits/guest/max-channels"), 204)
        before = (api.get("/api/vhost-limits").json, api.get("/api/user-limits").json)
        assert before == ([{"vhost": "emptied", "value": []},
                           {"vhost": "kept", "value": {"max-connections": 1, "max-queues": 3}}],
                          [{"user": "limbob", "value": {"max-channels": 1, "max-connections": 5}}])
        b.restart()
        api = HttpApi(b)
        assert (api.get("/api/vhost-limits").json, api.get("/api/user-limits").json) == before
        # ... and in force.
        c = b.connect(user="limbob", password=PASSWORD, vhost="kept")
        try:
            assert_close(open_reply(b, "kept"), 530, vhost_conn_text("kept", "guest", 1), 10, 40)
            c.channel()
            with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as ei:
                c.channel()
            assert ei.value.reply_text == channel_text("limbob", 1)
        finally:
            close_all([c])
        # A deleted user and a cleared parameter stay gone.
        ok(api.delete("/api/users/limbob"), 204)
        ok(api.delete("/api/parameters/vhost-limits/emptied/limits"), 204)
        b.restart()
        api = HttpApi(b)
        assert api.get("/api/vhost-limits").json == [
            {"vhost": "kept", "value": {"max-connections": 1, "max-queues": 3}}]
        assert api.get("/api/user-limits").json == []
        ok(api.put("/api/users/limbob", {"password": PASSWORD, "tags": ""}), 201)
        assert api.get("/api/user-limits/limbob").json == []
    finally:
        b.stop()
