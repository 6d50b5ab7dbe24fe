"""pulsectl (tools/pulsectl): queues, exchanges, bindings, users, permissions, policies,
connections.

See pulsectl_common.py for how pulsectl is run (both targets).
"""
import pika
import pytest

from harness.broker import HOST
from harness.http_api import q
from harness.util import wait_for
from pulsectl_common import V, binary, ctl, table  # noqa: F401 (fixtures)


# -- queues, exchanges, bindings ------------------------------------------------------------

def test_queue_declare_purge_delete(ctl, api, broker, uname):
    name = uname("cq")
    out = ctl.run("declare", "queue", name, "--durable", "--arg", "x-max-length=10",
                  "--arg", "x-dead-letter-exchange=dlx", "--arg", "x-overflow=reject-publish",
                  "--arg", 'x-single-active-consumer:=true').stdout
    assert out == "declared queue '%s' in vhost '/'\n" % name
    got = api.get("/api/queues/%s/%s" % (V, q(name))).json
    assert got["durable"] is True and got["auto_delete"] is False
    assert got["arguments"] == {"x-max-length": 10, "x-dead-letter-exchange": "dlx",
                                "x-overflow": "reject-publish",
                                "x-single-active-consumer": True}
    assert ctl.run("declare", "queue", name, "--durable", "--arg", "x-max-length=10",
                   "--arg", "x-dead-letter-exchange=dlx", "--arg", "x-overflow=reject-publish",
                   "--arg", 'x-single-active-consumer:=true').stdout == \
        "already exists: queue '%s' in vhost '/'\n" % name
    err = ctl.error(1, "declare", "queue", name)
    assert err.startswith("pulsectl: inequivalent arg 'durable' for queue '%s' in vhost '/': "
                          "received 'false' but current is 'true'" % name), err
    assert err.endswith("(HTTP 400)")
    c = broker.connect()
    try:
        ch = c.channel()
        for i in range(3):
            ch.basic_publish("", name, b"m%d" % i)
        ch.queue_declare(name, passive=True)
    finally:
        c.close()
    wait_for(lambda: [r.get("messages") for r in ctl.json("list", "queues", "-c", "name,messages")
                      if r["name"] == name] == [3], timeout=15, msg="3 messages listed")
    err = ctl.error(1, "delete", "queue", name, "--if-empty")
    assert err == "pulsectl: queue '%s' in vhost '/' not empty (HTTP 400)" % name
    assert ctl.run("purge", "queue", name).stdout == "purged queue '%s' in vhost '/'\n" % name
    c = broker.connect()
    try:
        assert c.channel().queue_declare(name, passive=True).method.message_count == 0
    finally:
        c.close()
    ctl.run("delete", "queue", name, "--if-empty", "--if-unused")
    assert api.get("/api/queues/%s/%s" % (V, q(name))).status == 404
    assert ctl.error(3, "delete", "queue", name) == \
        "pulsectl: queue '%s' in vhost '/' not found" % name
    assert ctl.error(3, "purge", "queue", name) == \
        "pulsectl: queue '%s' in vhost '/' not found" % name


def test_exchange_and_bindings(ctl, api, broker, uname):
    x, x2, qn = uname("cx"), uname("cx2"), uname("cbq")
    assert ctl.run("declare", "exchange", x, "--type", "topic", "--durable").stdout == \
        "declared exchange '%s' in vhost '/'\n" % x
    ctl.run("declare", "exchange", x2, "-t", "fanout", "--auto-delete", "--internal")
    ctl.run("declare", "queue", qn)
    try:
        got = api.get("/api/exchanges/%s/%s" % (V, q(x))).json
        assert (got["type"], got["durable"], got["auto_delete"], got["internal"]) == \
            ("topic", True, False, False)
        got = api.get("/api/exchanges/%s/%s" % (V, q(x2))).json
        assert (got["type"], got["auto_delete"], got["internal"]) == ("fanout", True, True)
        assert "inequivalent arg 'type'" in ctl.error(1, "declare", "exchange", x, "-t", "direct",
                                                      "--durable")
        out = ctl.run("declare", "binding", x, qn, "--routing-key", "a.*").stdout
        assert out == ("declared binding from exchange '%s' to queue '%s' with routing key "
                       "'a.*' in vhost '/'\n" % (x, qn))
        ctl.run("declare", "binding", x, x2, "--destination-type", "exchange", "-k", "b.#")
        ctl.run("declare", "binding", x, qn, "-k", "c", "--arg", "x-match=any")
        rows = ctl.json("list", "bindings", "--vhost", "/")
        mine = sorted((b["destination"], b["destination_type"], b["routing_key"], b["arguments"])
                      for b in rows if b["source"] == x)
        assert mine == sorted([(x2, "exchange", "b.#", {}), (qn, "queue", "a.*", {}),
                               (qn, "queue", "c", {"x-match": "any"})])
        # the binding routes
        c = broker.connect()
        try:
            ch = c.channel()
            ch.confirm_delivery()
            ch.basic_publish(x, "a.one", b"routed")
            method, _, body = ch.basic_get(qn, auto_ack=True)
            assert body == b"routed"
        finally:
            c.close()
        # either end missing is named
        assert ctl.error(3, "declare", "binding", x, "no-such-q") == \
            "pulsectl: queue 'no-such-q' in vhost '/' not found"
        assert ctl.error(3, "declare", "binding", "no-such-x", qn) == \
            "pulsectl: exchange 'no-such-x' in vhost '/' not found"
        # an exchange with bindings is in use
        err = ctl.error(1, "delete", "exchange", x, "--if-unused")
        assert x in err and err.endswith("(HTTP 400)"), err
        # deletion matches routing key and arguments
        err = ctl.error(3, "delete", "binding", x, qn, "-k", "zzz")
        assert err == ("pulsectl: binding from exchange '%s' to queue '%s' with routing key "
                       "'zzz' in vhost '/' not found" % (x, qn))
        err = ctl.error(3, "delete", "binding", x, qn, "-k", "c")
        assert err.endswith("not found (with that routing key: arguments "
                            '{"x-match":"any"}; give them with --arg)'), err
        assert "and arguments {\"x-match\":\"all\"} not found" in ctl.error(
            3, "delete", "binding", x, qn, "-k", "c", "--arg", "x-match=all")
        ctl.run("delete", "binding", x, qn, "-k", "c", "--arg", "x-match=any")
        ctl.run("delete", "binding", x, qn, "-k", "a.*")
        ctl.run("delete", "binding", x, x2, "--destination-type", "exchange", "-k", "b.#")
        assert [b for b in ctl.json("list", "bindings", "-V", "/") if b["source"] == x] == []
    finally:
        ctl.run("delete", "queue", qn, expect=None)
        ctl.run("delete", "exchange", x2, expect=None)
    assert ctl.run("delete", "exchange", x).stdout == "deleted exchange '%s' in vhost '/'\n" % x
    assert ctl.error(3, "delete", "exchange", x) == \
        "pulsectl: exchange '%s' in vhost '/' not found" % x


# -- users, permissions, policies -----------------------------------------------------------

def test_users_and_permissions(ctl, api, broker, uname):
    user = uname("cu")
    assert ctl.run("add", "user", user, "--password", "pw-1", "--tags",
                   "management,policymaker").stdout == "added user '%s'\n" % user
    try:
        got = api.get("/api/users/" + q(user)).json
        assert sorted(got["tags"]) == ["management", "policymaker"]
        assert ctl.json("list", "users", "-c", "name,tags") and \
            [u for u in ctl.json("list", "users") if u["name"] == user]
        # no permissions yet: AMQP login to / is refused
        with pytest.raises(pika.exceptions.ProbableAccessDeniedError):
            broker.connect(user=user, password="pw-1").close()
        out = ctl.run("set", "permissions", user, "--configure", "^cu\\.", "--read",
                      "^r$").stdout
        assert out == ("set permissions of user '%s' in vhost '/': configure '^cu\\.' write "
                       "'.*' read '^r$'\n" % user)
        assert {"user": user, "vhost": "/", "configure": "^cu\\.", "write": ".*",
                "read": "^r$"} in ctl.json("list", "permissions", "--vhost", "/")
        broker.connect(user=user, password="pw-1").close()
        # the user's own view, with its tags
        assert ctl.json("list", "queues", user=user, password="pw-1") is not None
        # updating the password through stdin ("-" keeps it out of ps)
        assert ctl.run("add", "user", user, "--password", "-", "--tags", "management",
                       stdin="pw-2\n").stdout == "updated user '%s'\n" % user
        broker.connect(user=user, password="pw-2").close()
        assert ctl.error(77, "status", user=user, password="pw-1").startswith(
            "pulsectl: Login failed")
        # a missing user or vhost is named
        assert ctl.error(3, "set", "permissions", "no-such-user") == \
            "pulsectl: user 'no-such-user' not found"
        assert ctl.error(3, "-V", "no-such-vhost", "set", "permissions", user) == \
            "pulsectl: vhost 'no-such-vhost' not found"
        ctl.run("clear", "permissions", user)
        with pytest.raises(pika.exceptions.ProbableAccessDeniedError):
            broker.connect(user=user, password="pw-2").close()
        assert ctl.error(3, "clear", "permissions", user) == \
            "pulsectl: permissions of user '%s' in vhost '/' not found" % user
    finally:
        assert ctl.run("delete", "user", user).stdout == "deleted user '%s'\n" % user
    assert ctl.error(3, "delete", "user", user) == "pulsectl: user '%s' not found" % user
    with pytest.raises(pika.exceptions.ProbableAuthenticationError):
        broker.connect(user=user, password="pw-2").close()


def test_policies(ctl, api, broker, uname):
    name, qn = uname("cpol"), uname("cpolq")
    out = ctl.run("set", "policy", name, "--pattern", "^%s$" % qn.replace(".", "\\."),
                  "--definition", '{"max-length": 2}', "--apply-to", "queues",
                  "--priority", "7").stdout
    assert out == "set policy '%s' in vhost '/'\n" % name
    try:
        got = [p for p in ctl.json("list", "policies", "-V", "/") if p["name"] == name][0]
        assert (got["apply-to"], got["priority"], got["definition"]) == \
            ("queues", 7, {"max-length": 2})
        ctl.run("declare", "queue", qn)
        c = broker.connect()
        try:
            ch = c.channel()
            ch.confirm_delivery()
            for i in range(5):
                ch.basic_publish("", qn, b"x")
            assert ch.queue_declare(qn, passive=True).method.message_count == 2
        finally:
            c.close()
        err = ctl.error(1, "set", "policy", uname("bad"), "--pattern", ".",
                        "--definition", '{"max-lengthx": 1}')
        assert err.startswith("pulsectl: Validation failed: ") and "max-lengthx" in err
        assert err.endswith("not recognised policy settings (HTTP 400)"), err
        assert "\n" not in err
    finally:
        ctl.run("delete", "queue", qn, expect=None)
        assert ctl.run("clear", "policy", name).stdout == \
            "cleared policy '%s' in vhost '/'\n" % name
    assert ctl.error(3, "delete", "policy", name) == \
        "pulsectl: policy '%s' in vhost '/' not found" % name


# -- connections, channels, consumers (pulsed: branch mgmt-conns) ---------------------------

def test_connections_channels_consumers_and_close(ctl, broker, uname):
    label, qn = uname("ctl-conn"), uname("ctlq")
    params = broker.pika_params(client_properties={"connection_name": label})
    c = pika.BlockingConnection(params)
    try:
        ch = c.channel()
        ch.queue_declare(qn, auto_delete=True)
        ch.basic_qos(prefetch_count=7)
        tag = ch.basic_consume(qn, lambda *a: None)

        def mine():
            rows = ctl.json("list", "connections", "-c", "name,user,vhost,client_properties")
            return [r for r in rows
                    if r.get("client_properties", {}).get("connection_name") == label]
        conn = wait_for(mine, timeout=15, msg="the connection listed")[0]
        name = conn["name"]
        assert (conn["user"], conn["vhost"]) == ("guest", "/")
        assert "%s:%d" % (HOST, broker.port) in name
        text = ctl.run("list", "connections").stdout
        assert table(text)[0] == ["name", "user", "vhost", "channels", "state"]
        assert name in text
        assert [r["name"] for r in ctl.json("list", "connections", "--vhost", "/")].count(name) == 1
        assert name not in [r["name"] for r in ctl.json("list", "connections", "-V",
                                                        "pulse-test")]

        def my_channel():
            return [r for r in ctl.json("list", "channels", "-c",
                                        "name,connection_details.name,number")
                    if r.get("connection_details", {}).get("name") == name]
        channel = wait_for(my_channel, timeout=15, msg="the channel listed")[0]
        assert channel["number"] == 1 and channel["name"] == "%s (1)" % name

        def my_consumer():
            return [r for r in ctl.json("list", "consumers", "--vhost", "/")
                    if r["queue"]["name"] == qn]
        consumer = wait_for(my_consumer, timeout=15, msg="the consumer listed")[0]
        assert consumer["consumer_tag"] == tag and consumer["ack_required"] is True
        assert consumer["prefetch_count"] == 7
        out = ctl.run("list", "consumers", "-c", "queue.name,consumer_tag").stdout
        assert [qn, tag] in table(out)

        out = ctl.run("close", "connection", name, "--reason", "maintenance by pulsectl").stdout
        assert out == "closed connection '%s'\n" % name

        def closed():
            try:
                c.process_data_events(time_limit=0.2)
            except pika.exceptions.ConnectionClosedByBroker as e:
                return e
            return None
        e = wait_for(closed, timeout=15, msg="the broker closing the connection")
        assert (e.reply_code, e.reply_text) == (320, "CONNECTION_FORCED - maintenance by pulsectl")
        assert ctl.error(3, "close", "connection", name) == \
            "pulsectl: connection '%s' not found" % name
    finally:
        if c.is_open:
            c.close()
