"""Pulse's HTTP API (issue 14, src/pulse/api/README.md): /api/pulse/... on both of its servers,
every test on each: pulsed (behind its management API's Basic auth) and pulse-guardian --listen in
front of a private RabbitMQ 3.10 node (sign-in by RabbitMQ's whoami, accounts in its state file,
the rest of /api answered by RabbitMQ). An administrator (guest) makes owners; an owner signs in
with its email and makes Pulse users, sees their queues and changes their passwords; namespaces
are claimed for credentials; the guardian's settings, notices and unbounded flags; bad requests;
everything kept across a restart. Real pika clients.

Where the two differ, the test says why. The main one: RabbitMQ's management API shows a queue's
size about 5 s late (its statistics emission), so what depends on sizes waits longer there."""
import datetime
import subprocess
import time

import pika
import pytest

from harness.broker import HOST, PulsedBroker, built_tool, free_port
from harness.http_api import HttpApi, q
from harness.pulse_front import P, Front, Guardian, RabbitLeftovers
from harness.pulse_targets import broker_for

FRONTS = ["pulsed", "guardian"]


def pulse_config(port, guardian=True):
    c = {"pulse.accounts.connection_url": "amqp://127.0.0.1:%d" % port}
    if guardian:
        c.update({"pulse.guardian.enabled": True, "pulse.guardian.interval": 1,
                  "pulse.guardian.warn_queue_size": 5, "pulse.guardian.delete_queue_size": 10})
    return c


def start(guardian=True):
    b = PulsedBroker()
    b.port = free_port()
    b.config = pulse_config(b.port, guardian)
    return b.start()


def rabbit(registry):
    """The RabbitMQ node pulse-guardian fronts: the session's private one (pulse_targets), or
    the session broker itself in a RabbitMQ run (this module's `broker` is the front's)."""
    import conftest
    return broker_for("rabbitmq", registry, lambda: conftest._start({}))


def start_front(kind, registry, state_dir=None):
    if kind == "pulsed":
        return Front(kind, start())
    node = rabbit(registry)
    return Front(kind, node, Guardian(node, pulse_config(node.port), state_dir=state_dir).start())


@pytest.fixture(scope="module", params=FRONTS)
def front(request, _broker_registry):
    leftovers = RabbitLeftovers(rabbit(_broker_registry)) if request.param == "guardian" else None
    f = start_front(request.param, _broker_registry)
    yield f
    f.stop()
    if leftovers:
        leftovers.clean()


@pytest.fixture(scope="module")
def broker(front):
    return front.broker


def patience(front):
    """How long a size-driven outcome may take: RabbitMQ's statistics lag ~5 s behind."""
    return 10 if front.name == "pulsed" else 40


def rfc3339(seconds_from_now):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds_from_now)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_owner(admin, email, password="ownerpw1"):
    r = admin.put(P + "/owners/" + q(email), {"password": password, "display_name": email})
    assert r.status == 201, r
    return admin.as_user(email, password)


def make_user(owner, name, password="userpw1"):
    r = owner.put(P + "/users/" + name, {"password": password, "description": "test"})
    assert r.status == 201, r
    return r.json


def wait_for(predicate, timeout=10, what="condition"):
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError("no %s within %s s" % (what, timeout))
        time.sleep(0.2)


def refused_login(broker, user, password):
    with pytest.raises(pika.exceptions.ProbableAuthenticationError):
        broker.connect(user, password).close()


def test_owner_makes_a_user_that_connects_and_keeps_its_connection_through_a_new_password(
        front, broker):
    admin = front.api()
    alice_owner = make_owner(admin, "alice@example.com")
    bob_owner = make_owner(admin, "bob@example.com")
    r = alice_owner.get(P + "/whoami")
    assert r.status == 200 and r.json["owner"] is True and r.json["admin"] is False, r
    make_user(alice_owner, "ann")
    # The owner's login is for the API only: no vhost, and none of the management API's
    # administrator resources.
    refused_login_vhost = pytest.raises((pika.exceptions.ProbableAccessDeniedError,
                                         pika.exceptions.ConnectionClosedByBroker))
    with refused_login_vhost:
        broker.connect("alice@example.com", "ownerpw1").close()
    assert alice_owner.get("/api/users").status == 401

    conn = broker.connect("ann", "userpw1")
    ch = conn.channel()
    ch.confirm_delivery()
    ch.exchange_declare("exchange/ann/x", "topic", durable=True)
    ch.queue_declare("queue/ann/q", durable=True)
    ch.queue_bind("queue/ann/q", "exchange/ann/x", "a.#")
    for i in range(3):
        ch.basic_publish("exchange/ann/x", "a.b", b"m%d" % i)
    # Not its namespace.
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        conn.channel().queue_declare("queue/bob/q")
    assert e.value.reply_code == 403

    # Sizes are the broker's statistics: RabbitMQ's come up to 5 s late.
    r = wait_for(lambda: (lambda r: r if r.status == 200 and r.json and r.json[0]["messages"] == 3
                          else None)(alice_owner.get(P + "/users/ann/queues")),
                 timeout=patience(front), what="ann's queue with 3 messages")
    assert [(x["name"], x["messages"]) for x in r.json] == [("queue/ann/q", 3)]
    assert r.json[0]["bindings"] == [{"source": "exchange/ann/x", "routing_key": "a.#"}]
    assert [u["name"] for u in alice_owner.get(P + "/users").json] == ["ann"]

    # Another owner sees nothing of it and changes nothing.
    assert bob_owner.get(P + "/users").json == []
    for method, path, body in [("GET", "/users/ann", None), ("GET", "/users/ann/queues", None),
                               ("PUT", "/users/ann", {"password": "stolen99"}),
                               ("DELETE", "/users/ann?delete_queues=true", None)]:
        r = bob_owner.request(method, P + path, body=body)
        assert r.status == 403 and r.json["error"] == "access_refused", (method, path, r)

    # A new password: the connected client stays, new logins need it.
    r = alice_owner.put(P + "/users/ann", {"password": "userpw2"})
    assert r.status == 200, r
    ch.basic_publish("exchange/ann/x", "a.c", b"after")
    assert conn.is_open
    refused_login(broker, "ann", "userpw1")
    broker.connect("ann", "userpw2").close()
    wait_for(lambda: alice_owner.get(P + "/users/ann/queues").json[0]["messages"] == 4,
             timeout=patience(front), what="ann's queue with 4 messages")
    conn.close()

    assert alice_owner.delete(P + "/users/ann?delete_queues=true").status == 204
    assert admin.get("/api/queues/%2F/" + q("queue/ann/q")).status == 404
    refused_login(broker, "ann", "userpw2")


def test_claimed_namespace_credentials_connect_and_expire(front, broker):
    admin = front.api()
    owner = make_owner(admin, "claims@example.com")
    body = {"expires": rfc3339(3600), "contact": "ci@example.com"}
    assert owner.post(P + "/namespaces/ci", body).status == 403
    r = admin.post(P + "/namespaces/ci", body)
    assert r.status == 201, r
    creds = r.json
    assert creds["username"] == "ci-1" and creds["connection_string"].startswith("amqp://ci-1:")
    conn = pika.BlockingConnection(pika.URLParameters(creds["connection_string"]))
    ch = conn.channel()
    ch.exchange_declare("exchange/ci/builds", "topic", durable=True)
    conn.close()
    listed = admin.get(P + "/namespaces").json
    assert [c["namespace"] for c in listed] == ["ci"] and "password" not in listed[0]

    # A claim that ends in two seconds: the timer sweeps it, its client is closed.
    r = admin.post(P + "/namespaces/short", {"expires": rfc3339(2)})
    assert r.status == 201, r
    conn = pika.BlockingConnection(pika.URLParameters(r.json["connection_string"]))
    conn.channel().queue_declare("queue/short/q", durable=True)
    wait_for(lambda: admin.get(P + "/namespaces/short").status == 404, what="expiry")
    assert admin.get("/api/queues/%2F/" + q("queue/short/q")).status == 404
    with pytest.raises(pika.exceptions.AMQPConnectionError):
        for _ in range(20):
            conn.process_data_events(0.2)
    refused_login(broker, "short-1", r.json["password"])


def fill(broker, queue, n):
    conn = broker.connect()
    ch = conn.channel()
    ch.confirm_delivery()
    ch.queue_declare(queue)
    for _ in range(n):
        ch.basic_publish("", queue, b"x")
    conn.close()


def test_guardian_settings_notices_and_unbounded_flags(front, broker):
    admin = front.api()
    wait = patience(front)
    owner = make_owner(admin, "carol@example.com")
    other = make_owner(admin, "dave@example.com")
    make_user(owner, "carol")
    make_user(other, "dave")

    r = owner.get(P + "/guardian")
    assert r.status == 200 and r.json["enabled"] is True, r
    assert r.json["settings"]["warn_queue_size"] == 5
    assert owner.put(P + "/guardian", {"warn_queue_size": 3}).status == 403
    r = admin.put(P + "/guardian", {"warn_queue_size": 4})
    assert r.status == 200 and r.json["settings"]["warn_queue_size"] == 4, r
    assert r.json["overrides"]["warn_queue_size"] == 4
    r = admin.put(P + "/guardian", {"warn_queue_size": 50})
    assert r.status == 400 and "warn_queue_size" in r.json["reason"], r

    keep = "queue/carol/keep"
    r = admin.put(P + "/guardian/unbounded/%2F/" + q(keep))
    assert r.status == 201 and r.json["set_by"] == "api", r
    assert owner.put(P + "/guardian/unbounded/%2F/" + q("queue/carol/other")).status == 403
    fill(broker, keep, 12)
    fill(broker, "queue/carol/big", 12)
    fill(broker, "queue/dave/mine", 6)
    wait_for(lambda: admin.get("/api/queues/%2F/" + q("queue/carol/big")).status == 404,
             timeout=wait, what="deletion of queue/carol/big")
    mine = wait_for(lambda: [n for n in owner.get(P + "/guardian/notices").json
                             if n["queue"] == keep], timeout=wait,
                    what="warning for the unbounded queue")
    assert mine[0]["event"] == "warning" and mine[0]["unbounded"] is True
    assert admin.get("/api/queues/%2F/" + q(keep)).status == 200
    events = {(n["queue"], n["event"]) for n in owner.get(P + "/guardian/notices").json}
    assert ("queue/carol/big", "deleted") in events
    assert all(qn.startswith("queue/carol/") for qn, _ in events), events
    theirs = wait_for(lambda: other.get(P + "/guardian/notices").json, timeout=wait,
                      what="dave's notice")
    assert {n["queue"] for n in theirs} == {"queue/dave/mine"}
    every = admin.get(P + "/guardian/notices").json
    last = every[-1]["id"]
    assert admin.get(P + "/guardian/notices?after=%d" % last).json == []
    assert admin.get(P + "/guardian").json["last_notice_id"] >= last

    assert admin.delete(P + "/guardian/unbounded/%2F/" + q(keep)).status == 204
    wait_for(lambda: admin.get("/api/queues/%2F/" + q(keep)).status == 404, timeout=wait,
             what="deletion once no longer unbounded")


def test_bad_requests_get_clear_errors(front):
    admin = front.api()
    owner = make_owner(admin, "erin@example.com")
    make_user(owner, "erin")
    cases = [
        ("PUT", "/users/frank", None, b"{not json", 400, "not JSON"),
        ("PUT", "/users/frank", {"password": 123456}, None, 400, "'password' must be a string"),
        ("PUT", "/users/frank", {"password": "secret1", "colour": "red"}, None, 400,
         "unknown field 'colour'"),
        ("PUT", "/users/frank", {}, None, 400, "'password' is missing"),
        ("PUT", "/users/frank", {"password": "abc"}, None, 400, "at least 6"),
        ("PUT", "/users/fr%2Fank", {"password": "secret1"}, None, 400, "letters, digits"),
        ("PUT", "/users/frank", {"password": "secret1", "description": "d" * 1001}, None, 400,
         "longer than 1000"),
        ("PUT", "/users/erin", {"owner": "someone@example.com"}, None, 400, "cannot be changed"),
        ("DELETE", "/users/erin?delete_queues=maybe", None, None, 400, "delete_queues"),
        ("POST", "/users/erin", {}, None, 405, "GET, PUT, DELETE"),
        ("GET", "/users/nobody", None, None, 404, "nobody"),
        ("GET", "/nothing/here", None, None, 404, "Not Found"),
        ("GET", "/guardian/notices?after=x", None, None, 400, "after"),
    ]
    for method, path, body, raw, status, reason in cases:
        r = owner.request(method, P + path, body=body, raw_body=raw)
        assert r.status == status, (method, path, r)
        assert reason in r.json["reason"], (method, path, r)
    assert owner.request("POST", P + "/users/erin").headers["allow"] == "GET, PUT, DELETE"
    r = admin.post(P + "/namespaces/late", {"expires": "yesterday"})
    assert r.status == 400 and "RFC 3339" in r.json["reason"], r
    r = admin.put(P + "/guardian", {"interval": "5"})
    assert r.status == 400 and "interval" in r.json["reason"], r
    # Sign-in is the management API's (pulse-guardian: RabbitMQ's, through its whoami): no
    # credentials, wrong ones, no management tag.
    assert admin.get(P + "/whoami", auth=False).status == 401
    assert admin.as_user("erin@example.com", "wrong1").get(P + "/whoami").status == 401
    assert admin.as_user("erin", "userpw1").get(P + "/whoami").status == 401
    # A management user that is no owner: only whoami.
    assert admin.put("/api/users/mgmt", {"password": "mgmt-pw1", "tags": "management"}
                     ).status in (201, 204)
    m = admin.as_user("mgmt", "mgmt-pw1")
    assert m.get(P + "/whoami").json == {"name": "mgmt", "tags": ["management"], "owner": False,
                                         "admin": False}
    r = m.get(P + "/users")
    assert r.status == 403 and r.json["error"] == "access_refused", r


def test_guardian_endpoints_unavailable_without_the_guardian():
    """pulsed only: pulse-guardian always runs its guardian (a --config that turns it off is
    refused, test_pulse_guardian.py), so it never answers 503 for that."""
    b = start(guardian=False)
    try:
        r = HttpApi(b).get(P + "/guardian")
        assert r.status == 503, r
        assert r.json == {"error": "unavailable", "reason": "the guardian is not running"}
        assert HttpApi(b).get(P + "/whoami").status == 200
    finally:
        b.stop()


@pytest.mark.parametrize("kind", FRONTS)
def test_unknown_pulse_accounts_keys_stop_the_start(kind, _broker_registry):
    for config, error in [({"pulse.accounts.rotation_intervall": 60},
                           "unknown key 'pulse.accounts.rotation_intervall'"),
                          ({"pulse.accounts.rotation_interval": 5}, "between 60 and 604800")]:
        if kind == "pulsed":
            b = PulsedBroker(config=config)
            with pytest.raises(RuntimeError) as e:
                b.start()
            assert error in str(e.value)
            continue
        g = Guardian(rabbit(_broker_registry), config)
        try:
            r = subprocess.run(g.command(), capture_output=True, text=True, timeout=30)
        finally:
            g.cleanup()
        assert r.returncode == 2 and error in r.stderr, r


@pytest.mark.parametrize("kind", FRONTS)
def test_pulse_state_survives_a_restart(kind, _broker_registry):
    """pulsed keeps it in its definitions store; pulse-guardian in its --state-file (RabbitMQ,
    which keeps the broker users, runs on)."""
    f = start_front(kind, _broker_registry)
    b = f.broker
    try:
        admin = f.api()
        owner = make_owner(admin, "gina@example.com")
        make_user(owner, "gina")
        claim = admin.post(P + "/namespaces/keepme", {"expires": rfc3339(3600)}).json
        assert admin.put(P + "/guardian", {"interval": 2, "delete_queue_size": 30}).status == 200
        assert admin.put(P + "/guardian/owners/gina", {"delete_queue_size": 99}).status == 200
        assert admin.put(P + "/guardian/unbounded/%2F/" + q("queue/gina/q")).status == 201

        f.restart()
        admin = f.api()
        assert owner.get(P + "/whoami").json["users"] == ["gina"]
        assert [u["name"] for u in owner.get(P + "/users").json] == ["gina"]
        b.connect("gina", "userpw1").close()
        again = admin.post(P + "/namespaces/keepme", {"expires": rfc3339(7200)})
        assert again.status == 200 and again.json["password"] == claim["password"], again
        pika.BlockingConnection(pika.URLParameters(again.json["connection_string"])).close()
        g = admin.get(P + "/guardian").json
        assert g["settings"]["interval"] == 2 and g["settings"]["delete_queue_size"] == 30, g
        assert g["settings"]["owners"]["gina"]["delete_queue_size"] == 99, g
        assert {"vhost": "/", "queue": "queue/gina/q"} in g["settings"]["unbounded"], g
        if kind == "guardian":  # the next run of this test on the shared node starts afresh
            admin.delete(P + "/namespaces/keepme")
            admin.delete(P + "/users/gina")
            admin.delete(P + "/owners/" + q("gina@example.com"))
    finally:
        f.stop()


def test_an_owner_signs_in_with_its_broker_login_and_a_wrong_password_gets_401(front):
    """The owner's login is a broker user (tag management): on pulse-guardian it exists on
    RabbitMQ itself, whose whoami answers it; a wrong password is RabbitMQ's (or pulsed's) 401
    with the management API's body."""
    admin = front.api()
    owner = make_owner(admin, "hana@example.com", "hana-pw1")
    r = owner.get(P + "/whoami")
    assert r.status == 200 and r.json["name"] == "hana@example.com" and r.json["owner"], r
    # The broker's own management API knows the login too (RabbitMQ's, in front of which
    # pulse-guardian runs).
    r = HttpApi(front.broker, "hana@example.com", "hana-pw1").get("/api/whoami")
    assert r.status == 200 and r.json["name"] == "hana@example.com", r
    assert "management" in r.json["tags"], r
    wrong = admin.as_user("hana@example.com", "not-it-1")
    for path in ("/whoami", "/users", "/guardian"):
        r = wrong.get(P + path)
        assert r.status == 401, (path, r)
        assert r.json == {"error": "not_authorized", "reason": "Login failed"}, (path, r)
        assert r.headers.get("www-authenticate", "").startswith("Basic"), (path, r)
    # A new password works at once (no stale sign-in kept), the old one no longer.
    assert owner.put(P + "/owners/" + q("hana@example.com"), {"password": "hana-pw2"}
                     ).status == 200
    assert admin.as_user("hana@example.com", "hana-pw2").get(P + "/whoami").status == 200
    assert owner.get(P + "/whoami").status == 401
    assert admin.delete(P + "/owners/" + q("hana@example.com")).status == 204
    assert HttpApi(front.broker, "hana@example.com", "hana-pw2").get("/api/whoami").status == 401


def test_pulse_guardian_answers_503_while_rabbitmq_is_unreachable(_broker_registry):
    """pulse-guardian only: pulsed is the broker it signs in against."""
    node = rabbit(_broker_registry)
    g = Guardian(node, pulse_config(node.port))
    try:
        g.start()
        api = Front("guardian", node, g).api()
        assert api.get(P + "/whoami").status == 200
        # Its --url now points at a port nothing listens on.
        g.stop()
        cmd = g.command()
        cmd[cmd.index("--url") + 1] = "http://%s:%d" % (HOST, free_port())
        g.command = lambda: cmd
        g.start()
        r = api.as_user("someone", "pw-123456").get(P + "/whoami")
        assert r.status == 503 and r.json["error"] == "unavailable", r
        assert "could not be reached" in r.json["reason"], r
        # The rest of /api is RabbitMQ's, passed on: unreachable too (test_ui_guardian.py).
        r = HttpApi(node).as_user("guest", "guest")
        r.port = g.port
        r = r.get("/api/overview")
        assert r.status == 503 and r.json["error"] == "unavailable", r
    finally:
        g.cleanup()


def test_pulse_guardian_serves_the_api_over_https(_broker_registry):
    """pulse-guardian only (pulsed's HTTPS listeners are test_https.py's): --listen-cert and
    --listen-key make --listen HTTPS, with the server's headers; a plaintext client gets no
    answer."""
    import http.client
    import socket
    import ssl

    from harness.certs import certs
    c = certs()
    node = rabbit(_broker_registry)
    g = Guardian(node, pulse_config(node.port),
                 extra=["--listen-cert", c.server_cert, "--listen-key", c.server_key])
    try:
        g.start()
        ctx = ssl.create_default_context(cafile=c.ca)
        conn = http.client.HTTPSConnection("localhost", g.port, context=ctx, timeout=10)
        conn.request("GET", P + "/whoami",
                     headers={"Authorization": "Basic Z3Vlc3Q6Z3Vlc3Q="})  # guest:guest
        r = conn.getresponse()
        body = r.read()
        assert r.status == 200 and b'"name":"guest"' in body, (r.status, body)
        assert r.getheader("server") == "pulse-guardian"
        assert r.getheader("x-content-type-options") == "nosniff"
        conn.close()
        with socket.create_connection((HOST, g.port), timeout=10) as s:
            s.sendall(b"GET /api/pulse/whoami HTTP/1.1\r\nHost: x\r\n\r\n")
            assert not s.recv(100).startswith(b"HTTP/")
    finally:
        g.cleanup()
