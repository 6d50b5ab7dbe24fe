"""Management API resources against a real broker: queues, exchanges, bindings (all forms),
publish/get/purge, users, permissions, topic permissions, vhosts, policies, list parameters.
Field names and status codes as RabbitMQ 3.10's management plugin."""
import time

import pika
from harness.http_api import q
from harness.util import wait_for

V = q("/")

QUEUE_FIELDS = {"name", "vhost", "durable", "auto_delete", "exclusive", "arguments", "type",
                "state", "node", "messages", "messages_ready", "messages_unacknowledged",
                "consumers", "consumer_utilisation", "memory", "message_bytes", "idle_since",
                "head_message_timestamp", "policy", "effective_policy_definition",
                "messages_details", "messages_ready_details",
                "messages_unacknowledged_details"}


def test_overview_whoami_nodes(api):
    o = api.get("/api/overview")
    assert o.status == 200
    for k in ("management_version", "rabbitmq_version", "cluster_name", "node", "object_totals",
              "queue_totals", "message_stats", "listeners", "exchange_types"):
        assert k in o.json, k
    assert {"queues", "exchanges", "connections", "channels",
            "consumers"} <= set(o.json["object_totals"])
    assert any(l["protocol"] == "amqp" for l in o.json["listeners"])
    assert api.get("/api/whoami").json == {"name": "guest", "tags": ["administrator"]}
    nodes = api.get("/api/nodes").json
    assert len(nodes) == 1 and nodes[0]["name"] == o.json["node"] and nodes[0]["running"]
    assert api.get("/api/nodes/" + q(o.json["node"])).json["name"] == o.json["node"]


def test_queue_lifecycle(api, broker, uname):
    name = uname("hq")
    path = "/api/queues/%s/%s" % (V, q(name))
    assert api.get(path).status == 404
    assert api.put(path, {"durable": False, "arguments": {"x-max-length": 10}}).status == 201
    assert api.put(path, {"durable": False, "arguments": {"x-max-length": 10}}).status == 204
    r = api.put(path, {"durable": True})
    assert r.status == 400
    assert r.json["error"] == "bad_request"
    assert r.json["reason"].startswith("inequivalent arg 'durable' for queue '%s' in vhost '/'"
                                       % name)
    # RabbitMQ adds the statistics fields at its next stats emission (5 s), the message counts
    # and the process details (memory, consumers...) not necessarily in the same one.
    seen = [{}]

    def complete():
        seen[0] = api.get(path).json
        return QUEUE_FIELDS <= set(seen[0])
    try:
        wait_for(complete, timeout=15)
    except AssertionError:
        raise AssertionError("queue fields missing: %s" % (QUEUE_FIELDS - set(seen[0])))
    got = seen[0]
    assert got["arguments"] == {"x-max-length": 10}
    assert (got["durable"], got["auto_delete"], got["exclusive"]) == (False, False, False)
    assert got["type"] == "classic" and got["state"] == "running"
    # visible over AMQP
    c = broker.connect()
    try:
        ch = c.channel()
        ch.queue_declare(name, passive=True)
        ch.basic_publish("", name, b"one")
        ch.basic_publish("", name, b"two")
    finally:
        c.close()
    wait_for(lambda: api.get(path).json.get("messages") == 2, timeout=15)
    r = api.delete(path + "?if-empty=true")
    assert r.status == 400
    assert r.json == {"error": "bad_request",
                      "reason": "queue '%s' in vhost '/' not empty" % name}
    assert api.delete(path + "/contents").status == 204
    wait_for(lambda: api.get(path).json.get("messages") == 0, timeout=15)
    assert api.delete(path).status == 204
    assert api.delete(path).status == 404
    assert api.delete(path + "/contents").status == 404


def test_queue_message_stats(api, broker, uname):
    name = uname("stats")
    path = "/api/queues/%s/%s" % (V, q(name))
    assert api.put(path, {"durable": False}).status == 201
    c = broker.connect()
    try:
        ch = c.channel()
        for i in range(3):
            ch.basic_publish("", name, b"m%d" % i)
        m, _, _ = ch.basic_get(name)
        ch.basic_ack(m.delivery_tag)
    finally:
        c.close()
    # RabbitMQ emits stats every 5 s.
    wait_for(lambda: "message_stats" in api.get(path).json
             and api.get(path).json["message_stats"].get("ack") == 1, timeout=15)
    ms = api.get(path).json["message_stats"]
    assert ms["publish"] == 3 and ms["deliver_get"] == 1 and ms["ack"] == 1
    for k in ("publish_details", "deliver_get_details", "ack_details", "redeliver_details"):
        assert "rate" in ms[k]
    api.delete(path)


def test_list_parameters(api, uname):
    base = uname("lp")
    names = [base + s for s in ("-b", "-a", "-c")]
    for n in names:
        assert api.put("/api/queues/%s/%s" % (V, q(n)), {"durable": False}).status == 201
    try:
        r = api.get("/api/queues/%s?columns=name&sort=name&sort_reverse=true" % V).json
        mine = [i["name"] for i in r if i["name"].startswith(base)]
        assert mine == sorted(names, reverse=True)
        assert all(set(i) == {"name"} for i in r)
        r = api.get("/api/queues/%s?page=1&page_size=2&name=%s&columns=name,vhost" % (V, base))
        assert r.status == 200
        j = r.json
        assert set(j) == {"filtered_count", "item_count", "items", "page", "page_count",
                          "page_size", "total_count"}
        assert (j["filtered_count"], j["item_count"], j["page"], j["page_count"],
                j["page_size"]) == (3, 2, 1, 2, 2)
        assert [i["name"] for i in j["items"]] == sorted(names)[:2]
        assert j["items"][0] == {"name": sorted(names)[0], "vhost": "/"}
        r = api.get("/api/queues/%s?page=9&page_size=2&name=%s" % (V, base))
        assert r.status == 400 and r.json["error"] == "page_out_of_range"
        r = api.get("/api/queues?page=1&page_size=600")
        assert r.status == 400 and r.json["error"] == "invalid_pagination_parameters"
        r = api.get("/api/queues?page=x")
        assert r.status == 400
        assert r.json == {"error": "bad_request", "reason": "Pagination parameters are invalid"}
        r = api.get("/api/queues?page=1&use_regex=true&name=%s" % q("^" + base + "-[ab]$"))
        assert r.json["filtered_count"] == 2
        r = api.get("/api/queues/%s?disable_stats=true&columns=name" % V)
        assert r.status == 200
    finally:
        for n in names:
            api.delete("/api/queues/%s/%s" % (V, q(n)))


def test_exchanges_publish_get_and_bindings(api, uname):
    x, x2, qn = uname("hx"), uname("hx2"), uname("hxq")
    xp = "/api/exchanges/%s/%s" % (V, q(x))
    assert api.put(xp, {"type": "topic", "durable": False}).status == 201
    assert api.put(xp, {"type": "topic", "durable": False}).status == 204
    r = api.put(xp, {"type": "direct", "durable": False})
    assert r.status == 400
    assert r.json["reason"] == ("inequivalent arg 'type' for exchange '%s' in vhost '/': "
                                "received 'direct' but current is 'topic'" % x)
    got = api.get(xp).json
    assert {"name", "vhost", "type", "durable", "auto_delete", "internal",
            "arguments"} <= set(got)
    assert got["type"] == "topic"
    assert api.put("/api/exchanges/%s/%s" % (V, q(x2)), {"type": "fanout",
                                                          "durable": False}).status == 201
    assert api.put("/api/queues/%s/%s" % (V, q(qn)), {"durable": False}).status == 201
    r = api.post("/api/bindings/%s/e/%s/q/%s" % (V, q(x), q(qn)),
                 {"routing_key": "a.*", "arguments": {"k": 1}})
    assert r.status == 201 and "location" in r.headers
    assert api.post("/api/bindings/%s/e/%s/q/%s" % (V, q(x), q(qn)),
                    {"routing_key": "b.#"}).status == 201
    assert api.post("/api/bindings/%s/e/%s/e/%s" % (V, q(x), q(x2)),
                    {"routing_key": "c"}).status == 201
    r = api.post("/api/bindings/%s/e/%s/q/%s" % (V, q(uname("nox")), q(qn)), {})
    assert r.status == 404
    bl = api.get("/api/bindings/%s/e/%s/q/%s" % (V, q(x), q(qn))).json
    assert sorted(b["routing_key"] for b in bl) == ["a.*", "b.#"]
    for b in bl:
        assert set(b) == {"source", "vhost", "destination", "destination_type", "routing_key",
                          "arguments", "properties_key"}
    plain = [b for b in bl if b["routing_key"] == "b.#"][0]
    assert plain["properties_key"] == "b.%23"  # the routing key, quote_plus-encoded
    withargs = [b for b in bl if b["routing_key"] == "a.*"][0]
    assert withargs["properties_key"].startswith("a.%2A~")
    assert withargs["arguments"] == {"k": 1}
    qb = api.get("/api/queues/%s/%s/bindings" % (V, q(qn))).json
    assert {"", x} == {b["source"] for b in qb}
    default = [b for b in qb if b["source"] == ""][0]
    assert default["routing_key"] == qn and default["properties_key"] == qn
    assert len(api.get(xp + "/bindings/source").json) == 3
    assert [b["source"] for b in
            api.get("/api/exchanges/%s/%s/bindings/destination" % (V, q(x2))).json] == [x]
    ee = "/api/bindings/%s/e/%s/e/%s/c" % (V, q(x), q(x2))
    assert api.get(ee).json["destination_type"] == "exchange"

    # publish and get
    r = api.post(xp + "/publish", {"routing_key": "a.z", "payload": "hello",
                                   "payload_encoding": "string",
                                   "properties": {"headers": {"h": "v"}, "delivery_mode": 1}})
    assert r.status == 200 and r.json == {"routed": True}
    assert api.post(xp + "/publish", {"routing_key": "zz", "payload": "x",
                                      "payload_encoding": "string",
                                      "properties": {}}).json == {"routed": False}
    assert api.post(xp + "/publish", {"routing_key": "b.q", "payload": "//4A",
                                      "payload_encoding": "base64",
                                      "properties": {}}).json == {"routed": True}
    gp = "/api/queues/%s/%s/get" % (V, q(qn))
    wait_for(lambda: api.get("/api/queues/%s/%s" % (V, q(qn))).json.get("messages") == 2,
             timeout=15)
    r = api.post(gp, {"count": 5, "ackmode": "ack_requeue_true", "encoding": "auto",
                      "truncate": 50000})
    assert r.status == 200
    msgs = r.json
    assert len(msgs) == 2
    assert set(msgs[0]) == {"payload_bytes", "redelivered", "exchange", "routing_key",
                            "message_count", "properties", "payload", "payload_encoding"}
    assert (msgs[0]["payload"], msgs[0]["payload_encoding"], msgs[0]["redelivered"]) == \
        ("hello", "string", False)
    assert msgs[0]["properties"]["headers"] == {"h": "v"}
    assert msgs[0]["exchange"] == x and msgs[0]["routing_key"] == "a.z"
    assert (msgs[1]["payload"], msgs[1]["payload_encoding"]) == ("//4A", "base64")  # not UTF-8
    assert msgs[1]["properties"] == []
    r = api.post(gp, {"count": 1, "ackmode": "ack_requeue_false", "encoding": "auto"})
    assert r.json[0]["redelivered"] is True and r.json[0]["message_count"] == 1
    wait_for(lambda: api.get("/api/queues/%s/%s" % (V, q(qn))).json.get("messages") == 1,
             timeout=15)

    # delete bindings
    pk = q(withargs["properties_key"])
    assert api.delete("/api/bindings/%s/e/%s/q/%s/%s" % (V, q(x), q(qn), pk)).status == 204
    assert api.delete("/api/bindings/%s/e/%s/q/%s/%s" % (V, q(x), q(qn), pk)).status == 404
    assert api.delete(ee).status == 204
    r = api.delete(xp + "?if-unused=true")
    assert r.status == 400
    assert r.json == {"error": "bad_request", "reason": "exchange '%s' in vhost '/' in use" % x}
    r = api.delete("/api/exchanges/%s/amq.direct" % V)
    assert r.status == 401 and r.json["reason"] == "Access refused."
    assert api.delete(xp).status == 204
    assert api.delete("/api/exchanges/%s/%s" % (V, q(x2))).status == 204
    assert api.delete("/api/queues/%s/%s" % (V, q(qn))).status == 204


def test_default_exchange_path(api):
    got = api.get("/api/exchanges/%s/amq.default" % V)
    assert got.status == 200 and got.json["name"] == "" and got.json["type"] == "direct"
    names = [e["name"] for e in api.get("/api/exchanges/%s?columns=name" % V).json]
    assert "" in names and "amq.topic" in names


def test_users_and_permissions(api, broker, uname):
    user = uname("hu")
    up = "/api/users/" + q(user)
    r = api.put(up, {"password": "pw"})
    assert r.status == 400 and r.json == {"error": "bad_request", "reason": "tags_not_present"}
    assert api.put(up, {"password": "pw1", "tags": "management,policymaker"}).status == 201
    got = api.get(up).json
    assert set(got) == {"name", "password_hash", "hashing_algorithm", "tags", "limits"}
    assert got["tags"] == ["management", "policymaker"]
    assert got["hashing_algorithm"] == "rabbit_password_hashing_sha256"
    assert api.put(up, {"password": "pw2", "tags": ["management"]}).status == 204
    assert api.as_user(user, "pw2").get("/api/whoami").json == {"name": user,
                                                                "tags": ["management"]}
    assert api.as_user(user, "pw1").get("/api/whoami").status == 401
    # permissions
    pp = "/api/permissions/%s/%s" % (V, q(user))
    r = api.put(pp, {"configure": ".*", "write": ".*"})
    assert r.status == 400 and r.json == {"error": "bad_request", "reason": "[{key_missing,read}]"}
    r = api.put("/api/permissions/no-such-vhost/%s" % q(user),
                {"configure": ".*", "write": ".*", "read": ".*"})
    assert r.status == 400 and r.json == {"error": "bad_request",
                                          "reason": "vhost_or_user_not_found"}
    assert api.put(pp, {"configure": "^x", "write": ".*", "read": ".*"}).status == 201
    assert api.put(pp, {"configure": ".*", "write": ".*", "read": ".*"}).status == 204
    assert api.get(pp).json == {"user": user, "vhost": "/", "configure": ".*", "write": ".*",
                                "read": ".*"}
    assert any(p["user"] == user for p in api.get("/api/permissions").json)
    assert [p["vhost"] for p in api.get(up + "/permissions").json] == ["/"]
    assert any(p["user"] == user for p in api.get("/api/vhosts/%s/permissions" % V).json)
    # the new user can use AMQP with that password
    c = broker.connect(user=user, password="pw2")
    c.close()
    tp = "/api/topic-permissions/%s/%s" % (V, q(user))
    assert api.put(tp, {"exchange": "amq.topic", "write": "^a", "read": ".*"}).status == 201
    assert api.get(tp).json == [{"user": user, "vhost": "/", "exchange": "amq.topic",
                                 "write": "^a", "read": ".*"}]
    assert api.delete(tp).status == 204
    assert api.delete(tp).status == 404
    assert api.delete(pp).status == 204
    assert api.delete(pp).status == 404
    # bulk delete
    other = uname("hu2")
    assert api.put("/api/users/" + q(other), {"password": "x", "tags": ""}).status == 201
    assert api.post("/api/users/bulk-delete", {"users": [user, other]}).status == 204
    assert api.get(up).status == 404
    assert api.get("/api/users/" + q(other)).status == 404


def test_vhosts(api, uname):
    vh = uname("hvh")
    vp = "/api/vhosts/" + q(vh)
    assert api.put(vp, {}).status == 201
    assert api.put(vp, {}).status == 204
    got = api.get(vp).json
    assert {"name", "description", "tags", "tracing", "cluster_state"} <= set(got)
    assert vh in [v["name"] for v in api.get("/api/vhosts").json]
    # the creator gets full permissions on the new vhost, as RabbitMQ's plugin grants them
    assert api.get("/api/permissions/%s/guest" % q(vh)).json == {
        "user": "guest", "vhost": vh, "configure": ".*", "write": ".*", "read": ".*"}
    assert api.get("/api/queues/" + q(vh)).json == []
    assert api.put("/api/queues/%s/q0" % q(vh), {"durable": False}).status == 201
    assert api.put("/api/permissions/%s/guest" % q(vh),
                   {"configure": ".*", "write": ".*", "read": ".*"}).status == 204
    assert api.put("/api/queues/%s/q1" % q(vh), {"durable": False}).status == 201
    assert [x["name"] for x in api.get("/api/queues/" + q(vh)).json] == ["q0", "q1"]
    assert api.delete(vp).status == 204
    assert api.get(vp).status == 404
    assert api.delete(vp).status == 404
    assert not any(p["vhost"] == vh for p in api.get("/api/permissions").json)


def test_policies_apply_live(api, broker, uname):
    name = uname("pol.hq")
    pol = uname("hpol")
    pp = "/api/policies/%s/%s" % (V, q(pol))
    assert api.put("/api/queues/%s/%s" % (V, q(name)), {"durable": False}).status == 201
    c = broker.connect()
    try:
        ch = c.channel()
        for i in range(5):
            ch.basic_publish("", name, b"m")
    finally:
        c.close()
    wait_for(lambda: api.get("/api/queues/%s/%s" % (V, q(name))).json.get("messages") == 5,
             timeout=15)
    r = api.put(pp, {"pattern": "^" + name.replace(".", "\\.") + "$",
                     "definition": {"max-length": "ten"}, "apply-to": "queues"})
    assert r.status == 400
    assert r.json == {"error": "bad_request",
                      "reason": "Validation failed\n\n&lt;&lt;\"ten\"&gt;&gt; is not a valid "
                                "maximum length\n"}
    body = {"pattern": "^" + name.replace(".", "\\.") + "$", "definition": {"max-length": 2},
            "priority": 7, "apply-to": "queues"}
    assert api.put(pp, body).status == 201
    assert api.put(pp, body).status == 204
    assert api.get(pp).json == {"vhost": "/", "name": pol, "pattern": body["pattern"],
                                "apply-to": "queues", "definition": {"max-length": 2},
                                "priority": 7}
    assert pol in [p["name"] for p in api.get("/api/policies/%s" % V).json]
    wait_for(lambda: api.get("/api/queues/%s/%s" % (V, q(name))).json.get("messages") == 2,
             timeout=15)
    wait_for(lambda: api.get("/api/queues/%s/%s" % (V, q(name))).json.get("policy") == pol,
             timeout=15)
    assert api.delete(pp).status == 204
    assert api.delete(pp).status == 404
    api.delete("/api/queues/%s/%s" % (V, q(name)))


def test_health_checks_and_aliveness(api, broker):
    assert api.get("/api/health/checks/alarms").json == {"status": "ok"}
    assert api.get("/api/health/checks/virtual-hosts").json == {"status": "ok"}
    r = api.get("/api/health/checks/port-listener/%d" % broker.port)
    assert r.status == 200 and r.json == {"status": "ok", "port": broker.port}
    r = api.get("/api/health/checks/port-listener/1")
    assert r.status == 503 and r.json["status"] == "failed"
    assert api.get("/api/aliveness-test/%s" % V).json == {"status": "ok"}
