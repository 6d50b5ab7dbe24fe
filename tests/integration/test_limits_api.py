"""Vhost and user limits through the management API (/api/vhost-limits, /api/user-limits,
/api/parameters): listings, errors, who may read and set them; against pulsed and a private
RabbitMQ 3.10 node (the `pulse_target` fixture)."""


from harness.http_api import q
from harness.limits import PASSWORD, ok, user_limit, vhost_limit
from harness.limits import admin, target, user, vhost  # noqa: F401 (fixtures)


def test_vhost_limits_listing(admin, vhost):
    v = vhost()
    assert admin.get("/api/vhost-limits/" + q(v)).json == []
    ok(vhost_limit(admin, v, "max-connections", 10), 204)
    ok(vhost_limit(admin, v, "max-queues", -1), 204)
    want = [{"vhost": v, "value": {"max-connections": 10, "max-queues": -1}}]
    assert admin.get("/api/vhost-limits/" + q(v)).json == want
    everything = admin.get("/api/vhost-limits").json
    assert [e for e in everything if e["vhost"] == v] == want
    # RabbitMQ keeps them as the vhost's "vhost-limits" runtime parameter named "limits".
    param = {"value": {"max-connections": 10, "max-queues": -1}, "vhost": v,
             "component": "vhost-limits", "name": "limits"}
    assert admin.get("/api/parameters/vhost-limits/%s/limits" % q(v)).json == param
    assert admin.get("/api/parameters/vhost-limits/" + q(v)).json == [param]
    assert param in admin.get("/api/parameters").json
    assert param in admin.get("/api/parameters/vhost-limits").json
    # A re-set replaces the value; deleting both leaves an empty parameter, listed as [].
    ok(vhost_limit(admin, v, "max-queues", 5), 204)
    assert admin.get("/api/vhost-limits/" + q(v)).json == [
        {"vhost": v, "value": {"max-connections": 10, "max-queues": 5}}]
    ok(admin.delete("/api/vhost-limits/%s/max-queues" % q(v)), 204)
    ok(admin.delete("/api/vhost-limits/%s/max-queues" % q(v)), 204)  # already gone: fine
    ok(admin.delete("/api/vhost-limits/%s/max-connections" % q(v)), 204)
    # (only the listing of all vhosts shows it).
    assert admin.get("/api/vhost-limits/" + q(v)).json == []
    assert {"vhost": v, "value": []} in admin.get("/api/vhost-limits").json
    assert admin.get("/api/parameters/vhost-limits/" + q(v)).json == [dict(param, value=[])]
    # Deleting the parameter removes the entry; a deleted vhost takes its limits.
    ok(admin.delete("/api/parameters/vhost-limits/%s/limits" % q(v)), 204)
    assert admin.get("/api/vhost-limits/" + q(v)).json == []
    ok(vhost_limit(admin, v, "max-queues", 1), 204)
    ok(admin.delete("/api/vhosts/" + q(v)), 204)
    ok(admin.put("/api/vhosts/" + q(v)), 201)
    assert admin.get("/api/vhost-limits/" + q(v)).json == []


def test_parameters_put_sets_vhost_limits(admin, vhost):
    v = vhost()
    path = "/api/parameters/vhost-limits/%s/limits" % q(v)
    ok(admin.put(path, {"component": "vhost-limits", "vhost": v, "name": "limits",
                         "value": {"max-connections": 5}}))
    assert admin.get("/api/vhost-limits/" + q(v)).json == [
        {"vhost": v, "value": {"max-connections": 5}}]
    r = admin.put(path, {"value": {"max-connections": "x"}})
    assert (r.status, r.json) == (400, {
        "error": "bad_request",
        "reason": "Validation failed\n\nmax-connections should be a number, actually was "
                  "&lt;&lt;\"x\"&gt;&gt;\n"})
    r = admin.put(path, {"value": 5})
    assert (r.status, r.json["reason"]) == (400, "Validation failed\n\nlimits not a list 5\n")
    r = admin.put(path, {"value": {"max-queues": 1, "max-connections": "a", "zz": 1}})
    assert (r.status, r.json["reason"]) == (
        400, "Validation failed\n\nUnrecognised terms [{&lt;&lt;\"zz\"&gt;&gt;,1}] in limits\n"
             "max-connections should be a number, actually was &lt;&lt;\"a\"&gt;&gt;\n")
    r = admin.put("/api/parameters/no-such-component/%s/x" % q(v), {"value": {}})
    assert (r.status, r.json["reason"]) == (
        400, "Validation failed\n\ncomponent no-such-component not found\n")
    r = admin.put("/api/parameters/vhost-limits/no-such-vhost/limits", {"value": {}})
    assert (r.status, r.json) == (404, {"error": "not_found", "reason": "vhost_not_found"})
    ok(admin.put(path, {"value": []}), 204)
    assert admin.get("/api/vhost-limits/" + q(v)).json == []
    assert {"vhost": v, "value": []} in admin.get("/api/vhost-limits").json
    assert admin.get("/api/parameters/vhost-limits/%s/nosuch" % q(v)).status == 404


def test_user_limits_listing(admin, user):
    u = user()
    assert admin.get("/api/user-limits/" + q(u)).json == []
    ok(user_limit(admin, u, "max-connections", 2), 204)
    ok(user_limit(admin, u, "max-channels", 3), 204)
    want = [{"user": u, "value": {"max-channels": 3, "max-connections": 2}}]
    assert admin.get("/api/user-limits/" + q(u)).json == want
    assert [e for e in admin.get("/api/user-limits").json if e["user"] == u] == want
    assert admin.get("/api/users/" + q(u)).json["limits"] == {"max-channels": 3,
                                                              "max-connections": 2}
    # A user PUT keeps them.
    ok(admin.put("/api/users/" + q(u), {"password": "other", "tags": "management"}), 204)
    assert admin.get("/api/user-limits/" + q(u)).json == want
    ok(admin.delete("/api/user-limits/%s/max-channels" % q(u)), 204)
    ok(admin.delete("/api/user-limits/%s/max-channels" % q(u)), 204)
    ok(admin.delete("/api/user-limits/%s/max-connections" % q(u)), 204)
    # A user without limits is not listed (no empty entry, unlike vhosts).
    assert admin.get("/api/user-limits/" + q(u)).json == []
    assert admin.get("/api/users/" + q(u)).json["limits"] == {}
    # A deleted user takes its limits.
    ok(user_limit(admin, u, "max-channels", 1), 204)
    ok(admin.delete("/api/users/" + q(u)), 204)
    ok(admin.put("/api/users/" + q(u), {"password": PASSWORD, "tags": ""}), 201)
    assert admin.get("/api/user-limits/" + q(u)).json == []


def test_vhost_limit_http_errors(target, admin, vhost):
    v = vhost()
    path = "/api/vhost-limits/%s/max-queues" % q(v)
    bad = "Validation failed\n\nmax-queues should be a number, actually was %s\n"
    for value, term in [(1.5, "1.5"), (2.0, "2.0"), ("3", '<<"3">>'), (None, "null"),
                        (True, "true"), ([1], "[1]"), ({"a": 1}, '#{<<"a">> => 1}')]:
        r = admin.put(path, {"value": value})
        assert (r.status, r.json) == (400, {"error": "bad_request", "reason": bad % term}), value
    r = admin.put("/api/vhost-limits/%s/foo" % q(v), {"value": 3})
    assert (r.status, r.json["reason"]) == (
        400, "Validation failed\n\nUnrecognised terms [{<<\"foo\">>,3}] in limits\n")
    for body in ({}, {"val": 3}):
        r = admin.put(path, body)
        assert (r.status, r.json) == (400, {"error": "bad_request",
                                            "reason": "[{key_missing,value}]"})
    for raw in (b"nope", b"[1]"):
        r = admin.request("PUT", path, raw_body=raw, headers={"Content-Type": "application/json"})
        assert (r.status, r.json) == (400, {"error": "bad_request", "reason": "not_json"})
    r = admin.put("/api/vhost-limits/no-such-vhost/max-queues", {"value": 3})
    assert (r.status, r.json) == (404, {"error": "not_found", "reason": "vhost_not_found"})
    assert admin.get("/api/vhost-limits/no-such-vhost").status == 404
    assert admin.get("/api/vhost-limits/%s/max-queues/x" % q(v)).status == 404
    for method, p, allow in [("GET", path, "PUT, DELETE, OPTIONS"),
                             ("POST", path, "PUT, DELETE, OPTIONS"),
                             ("PUT", "/api/vhost-limits/" + q(v), "GET, OPTIONS"),
                             ("DELETE", "/api/vhost-limits", "GET, OPTIONS")]:
        r = admin.request(method, p, body={"value": 1} if method in ("PUT", "POST") else None)
        assert (r.status, r.headers.get("allow")) == (405, allow), (method, p)
    # Nothing of that was stored.
    assert admin.get("/api/vhost-limits/" + q(v)).json == []
    if target.target == "pulsed":
        # RabbitMQ 3.10.8 crashes (an empty 500) deleting a limit of a missing vhost.
        assert admin.delete("/api/vhost-limits/no-such-vhost/max-queues").status == 404


def test_user_limit_http_errors(target, admin, user):
    u = user()
    path = "/api/user-limits/%s/max-channels" % q(u)
    r = admin.put(path, {"value": "x"})
    assert (r.status, r.json) == (400, {
        "error": "bad_request", "reason": "max-channels should be a number, actually was <<\"x\">>"})
    r = admin.put("/api/user-limits/%s/max-queues" % q(u), {"value": 3})
    assert (r.status, r.json["reason"]) == (
        400, "Unrecognised terms [{<<\"max-queues\">>,3}] in user-limits")
    r = admin.put(path, {})
    assert (r.status, r.json["reason"]) == (400, "[{key_missing,value}]")
    r = admin.request("PUT", path, raw_body=b"nope", headers={"Content-Type": "application/json"})
    assert (r.status, r.json["reason"]) == (400, "not_json")
    r = admin.put("/api/user-limits/no-such-user/max-channels", {"value": 1})
    assert (r.status, r.json) == (400, {"error": "bad_request",
                                        "reason": ["no_such_user", "no-such-user"]})
    r = admin.put("/api/user-limits/no-such-user/max-channels", {"value": "x"})
    assert r.json["reason"] == "max-channels should be a number, actually was <<\"x\">>"
    assert admin.get("/api/user-limits/no-such-user").status == 404
    r = admin.get(path)
    assert (r.status, r.headers.get("allow")) == (405, "PUT, DELETE, OPTIONS")
    assert admin.get("/api/user-limits/" + q(u)).json == []
    if target.target == "pulsed":
        # RabbitMQ 3.10.8 crashes (an empty 500) deleting a limit of a missing user.
        assert admin.delete("/api/user-limits/no-such-user/max-channels").status == 404


def test_who_may_read_and_set(admin, vhost, user):
    v, other = vhost(), vhost()
    ok(vhost_limit(admin, v, "max-queues", 7), 204)
    ok(vhost_limit(admin, other, "max-queues", 8), 204)
    bob = user()
    ok(user_limit(admin, bob, "max-channels", 9), 204)
    mon = user(vhosts=(v,), tags="monitoring")
    mgmt = user(vhosts=(v,), tags="management")
    pm = user(tags="policymaker")  # no vhost access
    plain = user(vhosts=(v,))
    mine = {"vhost": v, "value": {"max-queues": 7}}
    theirs = {"vhost": other, "value": {"max-queues": 8}}
    bobs = {"user": bob, "value": {"max-channels": 9}}
    for name in (mon, mgmt, pm, plain):
        api = admin.as_user(name, PASSWORD)
        if name == plain:
            for p in ("/api/vhost-limits", "/api/user-limits"):
                r = api.get(p)
                assert (r.status, r.json) == (401, {"error": "not_authorised",
                                                    "reason": "Not management user"})
            continue
        listed = api.get("/api/vhost-limits").json
        # Monitoring users see every vhost; others those they have a permission on.
        assert (mine in listed) == (name != pm), name
        assert (theirs in listed) == (name == mon), name
        r = api.get("/api/vhost-limits/" + q(other))
        if name == mon:
            assert r.json == [theirs]
        else:
            assert (r.status, r.json) == (401, {
                "error": "not_authorised", "reason": "User not authorised to access virtual host"})
        # Every management user reads every user's limits.
        assert bobs in api.get("/api/user-limits").json
        assert api.get("/api/user-limits/" + q(bob)).json == [bobs]
        for method, path in [("PUT", "/api/vhost-limits/%s/max-queues" % q(v)),
                             ("DELETE", "/api/vhost-limits/%s/max-queues" % q(v)),
                             ("PUT", "/api/vhost-limits/no-such-vhost/max-queues"),
                             ("PUT", "/api/user-limits/%s/max-channels" % q(bob)),
                             ("DELETE", "/api/user-limits/%s/max-channels" % q(bob))]:
            r = api.request(method, path, body={"value": 1} if method == "PUT" else None)
            assert (r.status, r.json) == (401, {"error": "not_authorised",
                                                "reason": "Not administrator user"}), (name, path)
    # /api/parameters: policymakers with access to the vhost only.
    r = admin.as_user(mgmt, PASSWORD).get("/api/parameters/vhost-limits/%s/limits" % q(v))
    assert (r.status, r.json["reason"]) == (401, "User not authorised to access object")
    assert admin.as_user(pm, PASSWORD).get("/api/parameters").json == []
    assert admin.get("/api/vhost-limits/" + q(v)).json == [mine]
    assert admin.get("/api/user-limits/" + q(bob)).json == [bobs]
