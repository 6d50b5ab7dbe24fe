"""Management API definitions export/import (RabbitMQ's JSON format) and rabbitmqadmin
(Debian's rabbitmq-server ships /usr/bin/rabbitmqadmin) against the broker."""
import base64
import hashlib
import json
import os
import subprocess
import time

import pika
import pika.exceptions
import pytest

from harness.http_api import q
from harness.util import wait_for

V = q("/")
RABBITMQADMIN = "/usr/bin/rabbitmqadmin"


def rabbit_hash(password, salt=b"\x01\x02\x03\x04"):
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def test_export_has_rabbitmq_sections(api):
    d = api.get("/api/definitions").json
    for k in ("rabbit_version", "users", "vhosts", "permissions", "topic_permissions",
              "parameters", "global_parameters", "policies", "queues", "exchanges",
              "bindings"):
        assert k in d, k
    guest = [u for u in d["users"] if u["name"] == "guest"][0]
    assert guest["hashing_algorithm"] == "rabbit_password_hashing_sha256"
    assert guest["tags"] == ["administrator"]
    assert {"/", "pulse-test"} <= {v["name"] for v in d["vhosts"]}
    assert not any(x["name"].startswith("amq.") or x["name"] == "" for x in d["exchanges"])
    one = api.get("/api/definitions/%s" % V).json
    assert "users" not in one and "vhosts" not in one
    assert all("vhost" not in qq for qq in one["queues"])


def test_round_trip_and_user_keeps_password(api, broker, uname):
    x, qn, pol, user = uname("dx"), uname("dq"), uname("dpol"), uname("du")
    defs = {
        "users": [{"name": user, "password_hash": rabbit_hash("s3cret"),
                   "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": "management"}],
        "permissions": [{"user": user, "vhost": "/", "configure": ".*", "write": ".*",
                         "read": ".*"}],
        "exchanges": [{"name": x, "vhost": "/", "type": "fanout", "durable": True,
                       "auto_delete": False, "internal": False, "arguments": {}}],
        "queues": [{"name": qn, "vhost": "/", "durable": True, "auto_delete": False,
                    "arguments": {"x-max-length": 5}}],
        "bindings": [{"source": x, "vhost": "/", "destination": qn, "destination_type": "queue",
                      "routing_key": "k", "arguments": {}}],
        "policies": [{"vhost": "/", "name": pol, "pattern": "^" + qn + "$",
                      "apply-to": "queues", "definition": {"max-length": 3}, "priority": 1}],
    }
    r = api.post("/api/definitions", defs)
    assert r.status == 204, r
    # the imported hash logs in, over HTTP and AMQP
    assert api.as_user(user, "s3cret").get("/api/whoami").status == 200
    broker.connect(user=user, password="s3cret").close()
    exp = api.get("/api/definitions").json
    assert [qq for qq in exp["queues"] if qq["name"] == qn][0]["arguments"] == {"x-max-length": 5}
    assert [b for b in exp["bindings"] if b["source"] == x][0]["destination"] == qn
    assert [p for p in exp["policies"] if p["name"] == pol][0]["definition"] == {"max-length": 3}
    assert [u for u in exp["users"] if u["name"] == user][0]["password_hash"] == \
        rabbit_hash("s3cret")
    # delete, then re-import the export: everything comes back
    assert api.delete("/api/queues/%s/%s" % (V, q(qn))).status == 204
    assert api.delete("/api/exchanges/%s/%s" % (V, q(x))).status == 204
    assert api.delete("/api/policies/%s/%s" % (V, q(pol))).status == 204
    assert api.delete("/api/users/" + q(user)).status == 204
    assert api.post("/api/definitions", exp).status == 204
    assert api.get("/api/queues/%s/%s" % (V, q(qn))).status == 200
    assert api.get("/api/bindings/%s/e/%s/q/%s/k" % (V, q(x), q(qn))).status == 200
    assert api.get("/api/policies/%s/%s" % (V, q(pol))).status == 200
    assert api.as_user(user, "s3cret").get("/api/whoami").status == 200
    # clone the vhost's definitions into another vhost
    vh = uname("clone")
    assert api.put("/api/vhosts/" + q(vh), {}).status == 201
    one = api.get("/api/definitions/%s" % V).json
    one = {k: [i for i in v if i.get("name") in (x, qn, pol) or i.get("source") == x]
           if isinstance(v, list) else v for k, v in one.items()}
    assert api.post("/api/definitions/" + q(vh), one).status == 204
    assert api.get("/api/queues/%s/%s" % (q(vh), q(qn))).status == 200
    assert api.get("/api/exchanges/%s/%s" % (q(vh), q(x))).status == 200
    # clean up
    assert api.delete("/api/vhosts/" + q(vh)).status == 204
    api.delete("/api/queues/%s/%s" % (V, q(qn)))
    api.delete("/api/exchanges/%s/%s" % (V, q(x)))
    api.delete("/api/policies/%s/%s" % (V, q(pol)))
    api.delete("/api/users/" + q(user))


def admin(broker, *args, check=True):
    # scripts/deps.sh test installs rabbitmq-server, which ships rabbitmqadmin.
    if not os.access(RABBITMQADMIN, os.X_OK):
        pytest.fail("%s is missing: run scripts/deps.sh test" % RABBITMQADMIN)
    cmd = [RABBITMQADMIN, "-H", broker.host, "-P", str(broker.http_port), "-u", "guest",
           "-p", "guest"] + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if check:
        assert r.returncode == 0, (cmd, r.stdout, r.stderr)
    return r


def test_rabbitmqadmin(broker, api, uname, tmp_path):
    qn = uname("adm")
    admin(broker, "declare", "queue", "name=" + qn, "durable=false")
    out = admin(broker, "-f", "raw_json", "list", "queues", "name", "messages").stdout
    assert qn in [i["name"] for i in json.loads(out)]
    assert "Message published" in admin(broker, "publish", "routing_key=" + qn,
                                        "payload=hello-admin").stdout
    out = admin(broker, "-f", "raw_json", "get", "queue=" + qn, "ackmode=ack_requeue_false").stdout
    got = json.loads(out)
    assert got[0]["payload"] == "hello-admin"
    wait_for(lambda: api.get("/api/queues/%s/%s" % (V, q(qn))).json.get("messages") == 0,
             timeout=15)
    path = str(tmp_path / "defs.json")
    admin(broker, "export", path)
    with open(path) as f:
        exported = json.load(f)
    assert "users" in exported and "queues" in exported
    admin(broker, "delete", "queue", "name=" + qn)
    assert api.get("/api/queues/%s/%s" % (V, q(qn))).status == 404
    # import a file declaring a durable queue
    dq = uname("admdur")
    with open(path, "w") as f:
        json.dump({"queues": [{"name": dq, "vhost": "/", "durable": True, "auto_delete": False,
                               "arguments": {}}]}, f)
    admin(broker, "import", path)
    assert api.get("/api/queues/%s/%s" % (V, q(dq))).status == 200
    admin(broker, "delete", "queue", "name=" + dq)
    out = admin(broker, "-f", "raw_json", "list", "users").stdout
    assert "guest" in [u["name"] for u in json.loads(out)]


def test_rabbitmqadmin_connections(broker, api, uname):
    qn = uname("admc")
    c = broker.connect()
    ch = c.channel()
    ch.queue_declare(qn)
    ch.basic_consume(qn, lambda *a: None, consumer_tag="admin-" + qn)
    sock = c._impl._transport._sock.getsockname()
    name = "127.0.0.1:%d -> 127.0.0.1:%d" % (sock[1], broker.port)

    def listed(kind, key):
        c.process_data_events(0)
        out = json.loads(admin(broker, "-f", "raw_json", "list", kind).stdout)
        return [x for x in out if key(x)]
    conns = wait_for(lambda: listed("connections", lambda x: x["name"] == name), timeout=20,
                     interval=0.3)
    assert conns[0]["user"] == "guest"
    chans = wait_for(lambda: listed("channels", lambda x: x["name"].startswith(name)),
                     timeout=20, interval=0.3)
    assert chans[0]["name"] == "%s (%d)" % (name, ch.channel_number)
    cons = wait_for(lambda: listed("consumers", lambda x: x["consumer_tag"] == "admin-" + qn),
                    timeout=20, interval=0.3)
    assert cons[0]["queue"]["name"] == qn
    # the table format too (the default columns must exist)
    assert name in admin(broker, "list", "connections").stdout
    admin(broker, "close", "connection", "name=" + name)
    deadline = time.time() + 10
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as e:
        while time.time() < deadline:
            c.process_data_events(0.2)
    assert e.value.reply_code == 320
    assert e.value.reply_text == "CONNECTION_FORCED - Closed via management plugin"


def test_classic_type_adds_no_argument(api, uname):
    """RabbitMQ exports "type": "classic" for every queue and takes it on PUT, but a classic
    queue keeps exactly the arguments it was given (no x-queue-type appears)."""
    put_q, imported = uname("tput"), uname("timp")
    assert api.put("/api/queues/%s/%s" % (V, q(put_q)),
                   {"durable": True, "type": "classic", "arguments": {"x-max-length": 4}}).status \
        == 201
    assert api.post("/api/definitions", {"queues": [
        {"name": imported, "vhost": "/", "durable": True, "auto_delete": False,
         "type": "classic", "arguments": {}}]}).status == 204
    try:
        assert api.get("/api/queues/%s/%s" % (V, q(put_q))).json["arguments"] == \
            {"x-max-length": 4}
        assert api.get("/api/queues/%s/%s" % (V, q(imported))).json["arguments"] == {}
    finally:
        api.delete("/api/queues/%s/%s" % (V, q(put_q)))
        api.delete("/api/queues/%s/%s" % (V, q(imported)))


def test_rabbitmqadmin_lists_every_kind(broker):
    """`rabbitmqadmin list <kind>` for every kind it knows, in its table form (which fails on
    an error status or a missing default column) and as JSON."""
    kinds = ["connections", "channels", "consumers", "exchanges", "queues", "bindings", "users",
             "vhosts", "permissions", "nodes", "parameters", "policies", "operator_policies",
             "vhost_limits"]
    for kind in kinds:
        admin(broker, "list", kind)
        assert isinstance(json.loads(admin(broker, "-f", "raw_json", "list", kind).stdout), list)
    assert json.loads(admin(broker, "-f", "raw_json", "list", "parameters").stdout) == []
    admin(broker, "show", "overview")
