"""Management API details a RabbitMQ user relies on without reading the docs, as RabbitMQ 3.10
answers them: declaration defaults, the disable_stats forms of queues, the health checks, and
the resources of features pulsed does not have (answered as RabbitMQ does while none are set),
so rabbitmqadmin, the web UI and load balancers work unchanged."""
from harness.http_api import q

V = q("/")
ALICE = ("alice", "alice-secret1")  # management tag only


def test_declarations_default_as_amqp_does(api, uname):
    """An empty body declares what exchange.declare / queue.declare's defaults give: a
    transient direct exchange and a transient classic queue (the web UI and rabbitmqadmin send
    durable explicitly)."""
    x, qn = uname("dx"), uname("dq")
    assert api.put("/api/exchanges/%s/%s" % (V, x), {}).status == 201
    got = api.get("/api/exchanges/%s/%s" % (V, x)).json
    assert (got["type"], got["durable"], got["auto_delete"], got["internal"]) == \
        ("direct", False, False, False)
    assert api.put("/api/queues/%s/%s" % (V, qn), {}).status == 201
    got = api.get("/api/queues/%s/%s" % (V, qn)).json
    assert (got["durable"], got["auto_delete"], got["type"]) == (False, False, "classic")
    # A top-level "type" is not the queue type (x-queue-type is): redeclaring with it and
    # durable=true is an inequivalent declaration of the transient classic queue.
    r = api.put("/api/queues/%s/%s" % (V, qn), {"type": "quorum", "durable": True})
    assert (r.status, r.json["reason"]) == (
        400, "inequivalent arg 'durable' for queue '%s' in vhost '/': received 'true' but "
             "current is 'false'" % qn)
    # A quorum queue must be durable.
    qq = uname("dqq")
    r = api.put("/api/queues/%s/%s" % (V, qq), {"arguments": {"x-queue-type": "quorum"}})
    assert (r.status, r.json["reason"]) == (
        400, "invalid property 'non-durable' for queue '%s' in vhost '/'" % qq)


def test_queue_forms_without_stats(api, broker, uname):
    qn, qq = uname("ds"), uname("dsq")
    assert api.put("/api/queues/%s/%s" % (V, qn), {"durable": True}).status == 201
    assert api.put("/api/queues/%s/%s" % (V, qq),
                   {"durable": True, "arguments": {"x-queue-type": "quorum"}}).status == 201
    api.post("/api/exchanges/%s/amq.default/publish" % V,
             {"routing_key": qn, "payload": "m", "payload_encoding": "string", "properties": {}})
    basic = {"name", "vhost", "durable", "auto_delete", "exclusive", "arguments", "type", "node"}
    one = api.get("/api/queues/%s/%s?disable_stats=true" % (V, qn)).json
    assert set(one) == basic | {"state"} and one["state"] == "live"
    listed = {x["name"]: x for x in api.get("/api/queues/%s?disable_stats=true" % V).json}
    assert set(listed[qn]) == basic | {"state"} and listed[qn]["state"] == "live"
    totals = {x["name"]: x for x in api.get(
        "/api/queues/%s?disable_stats=true&enable_queue_totals=true" % V).json}
    assert set(totals[qn]) == basic | {"state", "messages", "messages_ready",
                                       "messages_unacknowledged"}
    assert (totals[qn]["state"], totals[qn]["messages"], totals[qn]["messages_ready"]) == \
        ("running", 1, 1)
    quorum = api.get("/api/queues/%s/%s?disable_stats=true" % (V, qq)).json
    assert set(quorum) == (basic - {"node"}) | {"state", "leader", "members", "online"}
    node = api.get("/api/overview").json["node"]
    assert (quorum["type"], quorum["leader"], quorum["members"], quorum["online"]) == \
        ("quorum", node, [node], [node])


def test_health_checks(api, broker):
    ok = {"status": "ok", "reason": "single node cluster"}
    for check in ("node-is-quorum-critical", "node-is-mirror-sync-critical"):
        r = api.get("/api/health/checks/" + check)
        assert (r.status, r.json) == (200, ok)
    for within in ("1/days", "4/weeks", "12/months", "1/years"):
        r = api.get("/api/health/checks/certificate-expiration/" + within)
        assert (r.status, r.json) == (200, {"status": "ok"}), within  # no TLS listener
    r = api.get("/api/health/checks/certificate-expiration/x/days")
    assert (r.status, r.json) == (400, {"error": "bad_request",
                                        "reason": "Invalid expiration value."})
    r = api.get("/api/health/checks/certificate-expiration/1/fortnights")
    assert (r.status, r.json["reason"]) == (
        400, "Time unit not recognised. Supported units: days, weeks, months, years.")
    for name in ("amqp", "AMQP", "amqp091", "amqp0-9-1", "amqp0.9.1"):
        r = api.get("/api/health/checks/protocol-listener/" + q(name))
        assert (r.status, r.json) == (200, {"status": "ok", "protocol": "amqp"}), name
    r = api.get("/api/health/checks/protocol-listener/management")
    assert (r.status, r.json) == (200, {"status": "ok", "protocol": "http"})
    r = api.get("/api/health/checks/protocol-listener/mqtt")
    assert r.status == 503
    assert {k: r.json[k] for k in ("status", "reason", "missing")} == \
        {"status": "failed", "reason": "No active listener", "missing": "mqtt"}
    assert {"amqp", "http"} <= set(r.json["protocols"])
    r = api.get("/api/health/checks/port-listener/x")
    assert (r.status, r.json) == (400, {"error": "bad_request", "reason": "Invalid port"})
    # Any management user may run the checks.
    alice = api.as_user(*ALICE)
    assert alice.get("/api/health/checks/node-is-quorum-critical").status == 200


def test_auth_settings_need_no_login(api):
    expected = {"enable_uaa": False, "uaa_client_id": "", "uaa_location": ""}
    for client in (api, api.as_user("no-such-user", "x")):
        r = client.get("/api/auth")
        assert (r.status, r.json) == (200, expected)
    r = api.get("/api/auth", auth=False)
    assert (r.status, r.json) == (200, expected)


def test_resources_of_features_not_in_use(api, uname):
    """rabbitmqadmin's `list parameters`, `list operator_policies`, `list vhost_limits` and the
    web UI read these: empty lists, 404 for what does not exist."""
    for path in ("/api/parameters", "/api/parameters/shovel", "/api/parameters/shovel/" + V,
                 "/api/operator-policies", "/api/operator-policies/" + V,
                 "/api/vhost-limits", "/api/vhost-limits/" + V,
                 "/api/user-limits", "/api/user-limits/guest"):
        r = api.get(path)
        assert (r.status, r.json) == (200, []), path
    for path in ("/api/parameters/shovel/%s/x" % V, "/api/operator-policies/%s/x" % V,
                 "/api/vhost-limits/no-such-vhost", "/api/user-limits/no-such-user",
                 "/api/operator-policies/no-such-vhost"):
        r = api.get(path)
        assert (r.status, r.json) == (404, {"error": "Object Not Found",
                                            "reason": "Not Found"}), path
    flags = api.get("/api/feature-flags")
    assert flags.status == 200
    assert {"implicit_default_bindings", "quorum_queue"} <= {f["name"] for f in flags.json}
    for f in flags.json:
        assert set(f) == {"name", "desc", "doc_url", "state", "stability", "provided_by"}
    alice = api.as_user(*ALICE)
    r = alice.get("/api/feature-flags")
    assert (r.status, r.json) == (401, {"error": "not_authorised",
                                        "reason": "Not administrator user"})
    r = alice.get("/api/parameters")
    assert (r.status, r.json["reason"]) == (401, "User not authorised to access object")
    assert alice.get("/api/vhost-limits").json == []


def test_only_some_lists_are_paged(api, uname):
    """RabbitMQ 3.10 pages queues, exchanges, vhosts, connections and channels; the other
    lists ignore `page` and stay plain arrays."""
    qn = uname("pg")
    assert api.put("/api/queues/%s/%s" % (V, qn), {}).status == 201
    for path in ("/api/queues", "/api/exchanges", "/api/vhosts", "/api/connections",
                 "/api/channels"):
        r = api.get(path + "?page=1&page_size=5")
        assert r.status == 200 and set(r.json) == {
            "filtered_count", "item_count", "items", "page", "page_count", "page_size",
            "total_count"}, path
    for path in ("/api/users", "/api/permissions", "/api/topic-permissions", "/api/policies",
                 "/api/bindings", "/api/bindings/" + V, "/api/nodes",
                 "/api/users/without-permissions", "/api/vhosts/%s/permissions" % V,
                 "/api/exchanges/%s/amq.direct/bindings/source" % V,
                 "/api/queues/%s/%s/bindings" % (V, qn)):
        r = api.get(path + "?page=1&page_size=5")
        assert r.status == 200 and isinstance(r.json, list), path


def test_columns_apply_to_single_objects(api, uname):
    qn = uname("col")
    assert api.put("/api/queues/%s/%s" % (V, qn), {"durable": True}).status == 201
    assert api.get("/api/queues/%s/%s?columns=name,durable" % (V, qn)).json == \
        {"name": qn, "durable": True}
    assert api.get("/api/exchanges/%s/amq.direct?columns=name,type" % V).json == \
        {"name": "amq.direct", "type": "direct"}
    assert api.get("/api/users/guest?columns=name").json == {"name": "guest"}
    assert api.get("/api/vhosts/%s?columns=name" % V).json == {"name": "/"}
    assert api.get("/api/whoami?columns=name").json == {"name": "guest"}
    assert set(api.get("/api/overview?columns=node,rabbitmq_version").json) == \
        {"node", "rabbitmq_version"}
    assert set(api.get("/api/definitions?columns=users").json) == {"users"}


def test_churn_rates_and_vhost_traffic(api, broker):
    """The overview's churn_rates count connections, channels and queues coming and going;
    a vhost shows the bytes its connections moved once the statistics saw one."""
    from harness.util import wait_for
    # A fresh RabbitMQ node shows {} until its first statistics emission.
    before = wait_for(lambda: api.get("/api/overview").json["churn_rates"], timeout=20,
                      interval=0.5)
    keys = {"channel_closed", "channel_created", "connection_closed", "connection_created",
            "queue_created", "queue_declared", "queue_deleted"}
    assert set(before) == keys | {k + "_details" for k in keys}
    c = broker.connect()
    try:
        ch = c.channel()
        qn = ch.queue_declare("", exclusive=True).method.queue
        ch.basic_publish("", qn, b"x" * 1000)

        def seen():
            c.process_data_events(0.1)
            now = api.get("/api/overview").json["churn_rates"]
            v = api.get("/api/vhosts/" + V).json
            return now["connection_created"] > before["connection_created"] and \
                now["channel_created"] > before["channel_created"] and \
                now["queue_declared"] > before["queue_declared"] and \
                v.get("recv_oct", 0) >= 1000 and v
        v = wait_for(seen, timeout=20, interval=0.5)
        assert set(v["recv_oct_details"]) == {"rate"} and v["send_oct"] > 0
    finally:
        c.close()


def test_exchange_message_stats(api, broker, uname):
    """publish_in counts messages published to the exchange, publish_out the copies it routed
    to queues; absent before the first publish, as RabbitMQ."""
    from harness.util import wait_for
    x, q1, q2 = uname("xs"), uname("xq"), uname("xq")
    assert api.put("/api/exchanges/%s/%s" % (V, x), {"type": "fanout"}).status == 201
    assert "message_stats" not in api.get("/api/exchanges/%s/%s" % (V, x)).json
    for qn in (q1, q2):
        assert api.put("/api/queues/%s/%s" % (V, qn), {}).status == 201
        assert api.post("/api/bindings/%s/e/%s/q/%s" % (V, x, qn), {}).status == 201
    c = broker.connect()
    try:
        ch = c.channel()
        for _ in range(3):
            ch.basic_publish(x, "", b"m")

        def stats():
            c.process_data_events(0.1)
            ms = api.get("/api/exchanges/%s/%s" % (V, x)).json.get("message_stats", {})
            return ms if ms.get("publish_in") == 3 and ms.get("publish_out") == 6 else None
        ms = wait_for(stats, timeout=20, interval=0.5)
        assert set(ms) == {"publish_in", "publish_in_details", "publish_out",
                           "publish_out_details"}
        listed = [e for e in api.get("/api/exchanges/" + V).json if e["name"] == x]
        assert listed[0]["message_stats"]["publish_in"] == 3
    finally:
        c.close()


def test_permissions_are_listed_by_vhost_then_user(api, uname):
    user = uname("aa")  # sorts before the fixture's users
    assert api.put("/api/users/" + user, {"password": "pw", "tags": ""}).status == 201
    try:
        for vh in ("/", "pulse-test"):
            assert api.put("/api/permissions/%s/%s" % (q(vh), user),
                           {"configure": "", "write": "", "read": ".*"}).status == 201
        for path in ("/api/permissions", "/api/users/%s/permissions" % user,
                     "/api/vhosts/%s/permissions" % V):
            got = [(p["vhost"], p["user"]) for p in api.get(path).json]
            assert got == sorted(got), path
        got = [(p["vhost"], p["user"]) for p in api.get("/api/permissions").json]
        assert got.index(("/", user)) < got.index(("/", "guest")) < got.index(("pulse-test", user))
    finally:
        api.delete("/api/users/" + user)


def test_blank_body_is_an_empty_object(api, uname):
    """`curl -X PUT .../api/vhosts/v` (no body) creates the vhost: RabbitMQ decodes an empty
    body as {}, but white space alone is still not JSON."""
    v, qn = uname("bv"), uname("bq")
    try:
        assert api.request("PUT", "/api/vhosts/" + q(v), raw_body=b"").status == 201
        assert api.get("/api/vhosts/" + q(v)).json["name"] == v
        assert api.request("PUT", "/api/queues/%s/%s" % (V, qn), raw_body=b"").status == 201
        assert api.get("/api/queues/%s/%s" % (V, qn)).json["durable"] is False
        r = api.request("PUT", "/api/vhosts/" + q(v), raw_body=b" \n")
        assert (r.status, r.json) == (400, {"error": "bad_request", "reason": "not_json"})
    finally:
        api.delete("/api/vhosts/" + q(v))
        api.delete("/api/queues/%s/%s" % (V, qn))


def test_binding_properties_keys_and_location(api, uname):
    """The properties key of a binding without arguments is its routing key quoted as
    rabbit_mgmt_format does ("~" for an empty key, '~' itself as %7E, a space as '+'), and the
    Location of a new binding is relative to the posted path: destination, then the key quoted
    again. A client can follow either to read or delete the binding."""
    x, qn = uname("px"), uname("pq")
    base = "/api/bindings/%s/e/%s/q/%s" % (V, x, qn)
    try:
        assert api.put("/api/exchanges/%s/%s" % (V, x), {"type": "direct"}).status == 201
        assert api.put("/api/queues/%s/%s" % (V, qn), {}).status == 201
        r = api.post(base, {"routing_key": ""})
        assert (r.status, r.headers["location"]) == (201, qn + "/~")
        r = api.post(base, {"routing_key": "a~b c"})
        assert (r.status, r.headers["location"]) == (201, qn + "/a%257Eb%2Bc")
        keys = sorted(b["properties_key"] for b in api.get(base).json)
        assert keys == ["a%7Eb+c", "~"]
        assert api.get(base + "/a%257Eb%2Bc").json["routing_key"] == "a~b c"
        assert api.delete(base + "/~").status == 204
        assert [b["routing_key"] for b in api.get(base).json] == ["a~b c"]
    finally:
        api.delete("/api/exchanges/%s/%s" % (V, x))
        api.delete("/api/queues/%s/%s" % (V, qn))
