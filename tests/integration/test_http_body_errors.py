"""What the management API answers to wrong request bodies and missing objects, exactly as
RabbitMQ 3.10's management plugin: with_decode's key_missing lists (as Erlang prints them),
parse_bool/parse_int's tuples, basic.publish's checks returned as "<code> <text>", and the
forms a missing vhost takes."""
from harness.http_api import q

V = q("/")
ALICE = ("alice", "alice-secret1")  # management; configure ^alice\., write ^(alice\.|amq...)

PUBLISH = {"routing_key": "k", "payload": "x", "payload_encoding": "string", "properties": {}}
GET = {"count": 1, "ackmode": "ack_requeue_true", "encoding": "auto"}


def bad(r, reason, status=400):
    assert (r.status, r.json) == (status, {"error": "bad_request", "reason": reason}), r


def test_missing_keys_are_listed_in_order(api, uname):
    qn = uname("be")
    assert api.put("/api/queues/%s/%s" % (V, qn), {"durable": False}).status == 201
    # Four missing keys no longer fit in 80 columns: Erlang prints one per line.
    bad(api.post("/api/exchanges/%s/amq.direct/publish" % V, {}),
        "[{key_missing,routing_key},\n {key_missing,properties},\n {key_missing,payload},\n"
        " {key_missing,payload_encoding}]")
    bad(api.post("/api/exchanges/%s/amq.direct/publish" % V, {"routing_key": "k", "payload": "x"}),
        "[{key_missing,properties},{key_missing,payload_encoding}]")
    get = "/api/queues/%s/%s/get" % (V, qn)
    bad(api.post(get, {}), "[{key_missing,ackmode},{key_missing,count},{key_missing,encoding}]")
    bad(api.post(get, {"count": 1}), "[{key_missing,ackmode},{key_missing,encoding}]")
    # An old client's "requeue" is no ackmode.
    bad(api.post(get, {"count": 1, "requeue": True, "encoding": "auto"}),
        "[{key_missing,ackmode}]")
    bad(api.put("/api/permissions/%s/guest" % V, {}),
        "[{key_missing,configure},{key_missing,write},{key_missing,read}]")
    bad(api.put("/api/permissions/%s/guest" % V, {"configure": ".*"}),
        "[{key_missing,write},{key_missing,read}]")
    bad(api.put("/api/topic-permissions/%s/guest" % V, {"exchange": "amq.topic"}),
        "[{key_missing,write},{key_missing,read}]")
    bad(api.put("/api/policies/%s/%s" % (V, uname("p")), {}),
        "[{key_missing,pattern},{key_missing,definition}]")
    bad(api.put("/api/policies/%s/%s" % (V, uname("p")), {"pattern": "^x"}),
        "[{key_missing,definition}]")
    bad(api.post("/api/users/bulk-delete", {}), "[{key_missing,users}]")


def test_wrongly_typed_values(api, uname):
    qn = uname("bt")
    x = "/api/exchanges/%s/%s" % (V, uname("bx"))
    bad(api.put(x, {"type": "direct", "durable": "yes"}), ["not_boolean", "yes"])
    bad(api.put(x, {"type": "direct", "durable": 1}), ["not_boolean", 1])
    bad(api.put(x, {"type": "direct", "auto_delete": None}), ["not_boolean", None])
    bad(api.put("/api/queues/%s/%s" % (V, qn), {"durable": "yes"}), ["not_boolean", "yes"])
    assert api.get(x).status == 404 and api.get("/api/queues/%s/%s" % (V, qn)).status == 404
    bad(api.put(x, {"type": ""}), "invalid exchange type ''")
    assert api.put("/api/queues/%s/%s" % (V, qn), {"auto_delete": "false"}).status == 201

    pub = "/api/exchanges/%s/amq.direct/publish" % V
    bad(api.post(pub, dict(PUBLISH, payload=5)), "payload_not_string")
    bad(api.post(pub, dict(PUBLISH, payload_encoding="base64")), ["not_base64", "x"])
    bad(api.post(pub, dict(PUBLISH, payload_encoding="hex")), ["unsupported_encoding", "hex"])
    for props, reason in [({"delivery_mode": "2"}, ["not_int", "delivery_mode"]),
                          ({"priority": 1.5}, ["not_int", "priority"]),
                          ({"content_type": 5}, ["not_string", "content_type"]),
                          ({"expiration": 60000}, ["not_string", "expiration"]),
                          # the first wrong field in the record's order wins
                          ({"app_id": 5, "timestamp": "x", "priority": "y"},
                           ["not_int", "priority"])]:
        bad(api.post(pub, dict(PUBLISH, properties=props)), reason)
    # Properties are checked before the payload is decoded.
    bad(api.post(pub, dict(PUBLISH, payload_encoding="base64", properties={"priority": "x"})),
        ["not_int", "priority"])

    get = "/api/queues/%s/%s/get" % (V, qn)
    bad(api.post(get, dict(GET, count="x")), ["not_integer", "x"])
    bad(api.post(get, dict(GET, truncate=None)), ["not_integer", None])
    bad(api.post(get, dict(GET, encoding="hex")), "Unsupported encoding. Please use auto or base64.")
    assert api.post(get, dict(GET, count="2")).json == []

    pol = "/api/policies/%s/%s" % (V, uname("bp"))
    body = {"pattern": "^nothing", "definition": {"max-length": 1}}
    bad(api.put(pol, dict(body, priority="5")),
        "Validation failed\n\npriority should be a number, actually was &lt;&lt;\"5\"&gt;&gt;\n")
    bad(api.put(pol, dict(body, priority=True)),
        "Validation failed\n\npriority should be a number, actually was true\n")
    bad(api.put(pol, dict(body, pattern=5)),
        "Validation failed\n\npattern should be a binary but was 5\n")
    assert api.get(pol).status == 404
    assert api.put(pol, dict(body, priority=3)).status == 201
    bad(api.put("/api/users/%s" % uname("bu"), {"password_hash": "!!", "tags": ""}),
        ["not_base64", "!!"])


def test_publish_answers_with_the_channel_error(api, uname):
    """RabbitMQ publishes through a channel as the user: what closes it comes back as a 400
    carrying the reply code and text."""
    ix = uname("internal")
    assert api.put("/api/exchanges/%s/%s" % (V, ix), {"type": "fanout", "internal": True}).status == 201
    none = uname("none")
    bad(api.post("/api/exchanges/%s/%s/publish" % (V, q(none)), PUBLISH),
        "404 NOT_FOUND - no exchange '%s' in vhost '/'" % none)
    bad(api.post("/api/exchanges/%s/%s/publish" % (V, ix), PUBLISH),
        "403 ACCESS_REFUSED - cannot publish to internal exchange '%s' in vhost '/'" % ix)
    bad(api.post("/api/exchanges/%s/amq.direct/publish" % V,
                 dict(PUBLISH, properties={"user_id": "bob"})),
        "406 PRECONDITION_FAILED - user_id property set to 'bob' but authenticated user was "
        "'guest'")
    alice = api.as_user(*ALICE)
    bad(alice.post("/api/exchanges/%s/amq.direct/publish" % V, PUBLISH),
        "403 ACCESS_REFUSED - access to exchange 'amq.direct' in vhost '/' refused for user "
        "'alice'")
    bad(alice.post("/api/exchanges/%s/amq.topic/publish" % V, dict(PUBLISH, routing_key="bob.x")),
        "403 ACCESS_REFUSED - access to topic 'bob.x' in exchange 'amq.topic' in vhost '/' "
        "refused for user 'alice'")
    r = alice.post("/api/exchanges/%s/amq.topic/publish" % V, dict(PUBLISH, routing_key="alice.x"))
    assert (r.status, r.json) == (200, {"routed": False})
    # The body is read before any permission is checked.
    bad(alice.post("/api/exchanges/%s/amq.direct/publish" % V, {"routing_key": "k",
                                                               "properties": {},
                                                               "payload_encoding": "string"}),
        "[{key_missing,payload}]")
    bad(alice.put("/api/queues/%s/%s" % (V, uname("notalice")), {"durable": "x"}),
        ["not_boolean", "x"])
    r = alice.put("/api/queues/%s/%s" % (V, uname("notalice")), {})
    assert (r.status, r.json) == (401, {"error": "not_authorised", "reason": "Access refused."})


def test_missing_objects(api, uname):
    noq = uname("noq")
    r = api.post("/api/queues/%s/%s/get" % (V, noq), GET)
    assert (r.status, r.json) == (404, {"error": "not_found",
                                        "reason": "NOT_FOUND - no queue '%s' in vhost '/'" % noq})
    vhost_gone = {"error": "not_found", "reason": "vhost_not_found"}
    for path, body in [("/api/queues/no-such-vhost/q", {}),
                       ("/api/exchanges/no-such-vhost/x", {"type": "direct"}),
                       ("/api/policies/no-such-vhost/p", {"pattern": ".", "definition": {}})]:
        r = api.put(path, body)
        assert (r.status, r.json) == (404, vhost_gone), path
    r = api.post("/api/bindings/no-such-vhost/e/amq.direct/q/q", {})
    assert (r.status, r.json) == (404, vhost_gone)
    refused = {"error": "not_authorised", "reason": "Access refused."}
    r = api.post("/api/exchanges/no-such-vhost/amq.direct/publish", PUBLISH)
    assert (r.status, r.json) == (401, refused)
    r = api.post("/api/queues/no-such-vhost/q/get", GET)
    assert (r.status, r.json) == (401, refused)
    not_found = {"error": "Object Not Found", "reason": "Not Found"}
    for r in (api.get("/api/queues/no-such-vhost/q"), api.delete("/api/queues/no-such-vhost/q")):
        assert (r.status, r.json) == (404, not_found)


def test_pagination_error_names_an_absent_page_size(api):
    r = api.get("/api/queues?page=0")
    assert (r.status, r.json) == (400, {
        "error": "invalid_pagination_parameters",
        "reason": "Invalid pagination parameters: page number 0, page size undefined"})
    r = api.get("/api/queues?page=0&page_size=10")
    assert r.json["reason"] == "Invalid pagination parameters: page number 0, page size 10"
