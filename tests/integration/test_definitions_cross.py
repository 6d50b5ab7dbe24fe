"""Definitions move between a real RabbitMQ node and pulsed in both directions (issue 5): a
RabbitMQ export imports into pulsed, its users log in to pulsed with their original passwords and
its topology routes; pulsed's export then imports into RabbitMQ, where the same users log in and
the same topology routes again.

pulsed-only: it starts its own private RabbitMQ node (Debian's rabbitmq-server) beside pulsed."""
import json

import pika
import pika.exceptions
import pytest

from harness.basic_ops import get_all
from harness.broker import RabbitBroker
from harness.http_api import HttpApi, q

pytestmark = pytest.mark.pulsed_only

VH = "cross-vh"
USER, PASSWORD = "cross-alice", "s3cret-\u00fcber:/@"  # UTF-8 and URL-ish characters
WATCHER, WATCHER_PASSWORD = "cross-bob", "other pass"


@pytest.fixture(scope="module")
def rabbit():
    b = RabbitBroker()
    b.start()
    yield b
    b.stop(check=False)


def ok(r, *codes):
    assert r.status in (codes or (200, 201, 204)), r
    return r


def build_topology(api):
    """Users, a vhost, permissions, an exchange, queues, bindings and a policy, made over the
    management API (the same calls on both brokers)."""
    v = q(VH)
    ok(api.put("/api/vhosts/" + v, {}))
    ok(api.put("/api/users/" + q(USER), {"password": PASSWORD, "tags": "management"}))
    ok(api.put("/api/users/" + q(WATCHER), {"password": WATCHER_PASSWORD, "tags": ""}))
    for user, perms in ((USER, (".*", ".*", ".*")), (WATCHER, ("^$", "^$", "^cross\\."))):
        ok(api.put("/api/permissions/%s/%s" % (v, q(user)),
                   dict(zip(("configure", "write", "read"), perms))))
    ok(api.put("/api/exchanges/%s/cross.events" % v,
               {"type": "topic", "durable": True, "arguments": {}}))
    ok(api.put("/api/queues/%s/cross.builds" % v,
               {"durable": True, "arguments": {"x-max-length": 100, "x-queue-mode": "lazy"}}))
    ok(api.put("/api/queues/%s/cross.all" % v, {"durable": True, "arguments": {}}))
    ok(api.post("/api/bindings/%s/e/cross.events/q/cross.builds" % v,
                {"routing_key": "build.*", "arguments": {}}))
    ok(api.post("/api/bindings/%s/e/cross.events/q/cross.all" % v,
                {"routing_key": "#", "arguments": {}}))
    ok(api.put("/api/policies/%s/cross-ttl" % v,
               {"pattern": "^cross\\.all$", "apply-to": "queues", "priority": 2,
                "definition": {"message-ttl": 600000}}))


def check_broker(b, api):
    """What a user of the imported definitions sees: both users log in with their original
    passwords (over AMQP and HTTP), the topology routes, permissions and the policy hold."""
    assert api.as_user(USER, PASSWORD).get("/api/whoami").json["name"] == USER
    conn = b.connect(user=USER, password=PASSWORD, vhost=VH)
    ch = conn.channel()
    ch.confirm_delivery()
    ch.basic_publish("cross.events", "build.linux", b"built")
    ch.basic_publish("cross.events", "review.opened", b"opened")
    got = {qn: sorted(get_all(ch, qn)) for qn in ("cross.builds", "cross.all")}
    assert got == {"cross.builds": [b"built"], "cross.all": [b"built", b"opened"]}
    # the queue kept its arguments: redeclaring with other ones is refused
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        ch.queue_declare("cross.builds", durable=True, arguments={"x-max-length": 5})
    assert e.value.reply_code == 406
    conn.close()
    # the watcher may read cross.* but not configure anything
    w = b.connect(user=WATCHER, password=WATCHER_PASSWORD, vhost=VH)
    wch = w.channel()
    assert wch.basic_get("cross.all", auto_ack=True)[0] is None
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        wch.queue_declare("cross.mine")
    assert e.value.reply_code == 403
    w.close()
    with pytest.raises(pika.exceptions.AMQPConnectionError):
        b.connect(user=USER, password=PASSWORD + "x", vhost=VH)
    pol = api.get("/api/policies/%s/cross-ttl" % q(VH)).json
    assert pol["definition"] == {"message-ttl": 600000} and pol["apply-to"] == "queues"
    assert api.get("/api/queues/%s/cross.builds" % q(VH)).json["arguments"] == \
        {"x-max-length": 100, "x-queue-mode": "lazy"}


def ours(defs):
    """The parts of a whole-broker export that this test made (the brokers' own default users,
    vhosts and the harness's definitions stay where they are)."""
    out = dict(defs)
    out["users"] = [u for u in defs["users"] if u["name"] in (USER, WATCHER)]
    out["vhosts"] = [v for v in defs["vhosts"] if v["name"] == VH]
    for k in ("permissions", "topic_permissions", "queues", "exchanges", "bindings", "policies",
              "parameters"):
        out[k] = [i for i in defs.get(k, []) if i.get("vhost") == VH]
    return out


def test_rabbitmq_export_into_pulsed_and_back(rabbit, broker, tmp_path):
    rapi, papi = HttpApi(rabbit), HttpApi(broker)
    build_topology(rapi)
    check_broker(rabbit, rapi)

    # RabbitMQ -> pulsed, through rabbitmqctl's own export file
    path = str(tmp_path / "from-rabbitmq.json")
    r = rabbit.ctl("export_definitions", path)
    assert r.returncode == 0, r.stderr
    with open(path) as f:
        from_rabbit = ours(json.load(f))
    assert {u["name"] for u in from_rabbit["users"]} == {USER, WATCHER}
    assert all(u["hashing_algorithm"] == "rabbit_password_hashing_sha256"
               for u in from_rabbit["users"])
    ok(papi.post("/api/definitions", from_rabbit), 204)
    check_broker(broker, papi)

    # pulsed -> RabbitMQ: the node forgets everything first, then imports pulsed's export
    from_pulsed = ours(ok(papi.get("/api/definitions"), 200).json)
    pulsed_users = {u["name"]: u for u in from_pulsed["users"]}
    assert pulsed_users[USER]["password_hash"] == \
        [u for u in from_rabbit["users"] if u["name"] == USER][0]["password_hash"]
    ok(rapi.delete("/api/vhosts/" + q(VH)), 204)
    for user in (USER, WATCHER):
        ok(rapi.delete("/api/users/" + q(user)), 204)
    assert rapi.get("/api/vhosts/" + q(VH)).status == 404
    back = str(tmp_path / "from-pulsed.json")
    with open(back, "w") as f:
        json.dump(from_pulsed, f)
    rabbit.import_definitions(back)
    check_broker(rabbit, rapi)

    # clean up pulsed (the session broker is shared)
    ok(papi.delete("/api/vhosts/" + q(VH)), 204)
    for user in (USER, WATCHER):
        ok(papi.delete("/api/users/" + q(user)), 204)
