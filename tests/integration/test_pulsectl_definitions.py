"""pulsectl (tools/pulsectl): export, import and vhost clone.

See pulsectl_common.py for how pulsectl is run (both targets).
"""
import json


from harness.http_api import q
from pulsectl_common import binary, ctl  # noqa: F401 (fixtures)


# -- definitions and clone ------------------------------------------------------------------

def test_export_and_import_definitions(ctl, api, tmp_path, uname):
    path = tmp_path / "all.json"
    out = ctl.run("export", "definitions", str(path)).stdout
    assert out.startswith("exported ") and out.endswith(" to %s\n" % path)
    everything = json.loads(path.read_text())
    assert {"users", "vhosts", "permissions", "queues", "exchanges", "bindings",
            "policies"} <= set(everything)
    assert json.loads(ctl.run("export", "definitions").stdout)["users"] == everything["users"]
    one = json.loads(ctl.run("export", "definitions", "-", "--vhost", "/").stdout)
    assert "users" not in one and "queues" in one
    # --json leaves stdout to the data only
    assert ctl.run("--json", "export", "definitions", str(path)).stdout == ""

    vh, qn, x = uname("imp"), uname("impq"), uname("impx")
    ctl.run("add", "vhost", vh)
    try:
        defs = {"queues": [{"name": qn, "durable": True, "auto_delete": False,
                            "arguments": {"x-max-length": 4}}],
                "exchanges": [{"name": x, "type": "fanout", "durable": True,
                               "auto_delete": False, "internal": False, "arguments": {}}],
                "bindings": [{"source": x, "destination": qn, "destination_type": "queue",
                              "routing_key": "", "arguments": {}}]}
        p = ctl.run("import", "definitions", "-", "--vhost", vh, stdin=json.dumps(defs))
        assert p.stdout == "imported 1 queues, 1 exchanges, 1 bindings into vhost '%s'\n" % vh
        got = api.get("/api/queues/%s/%s" % (q(vh), q(qn))).json
        assert got["arguments"] == {"x-max-length": 4}
        assert api.get("/api/exchanges/%s/%s" % (q(vh), q(x))).status == 200
        # a whole-broker file, read from disk
        user = uname("impu")
        f = tmp_path / "users.json"
        f.write_text(json.dumps({"users": [{"name": user, "password": "imp-pw", "tags": ""}]}))
        assert ctl.run("import", "definitions", str(f)).stdout == "imported 1 users\n"
        assert api.get("/api/users/" + q(user)).status == 200
        ctl.run("delete", "user", user)
    finally:
        ctl.run("delete", "vhost", vh)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert ctl.error(2, "import", "definitions", str(bad)) == \
        "pulsectl: %s: not a JSON object of definitions" % bad
    assert ctl.error(2, "import", "definitions", str(tmp_path / "missing.json")) == \
        "pulsectl: %s: No such file or directory" % (tmp_path / "missing.json")
    assert ctl.error(2, "export", "definitions", str(tmp_path / "no-dir" / "x.json")).endswith(
        "No such file or directory")
    assert ctl.error(3, "export", "definitions", "--vhost", "no-such-vhost") == \
        "pulsectl: vhost 'no-such-vhost' not found"


def test_clone_vhost_and_use_the_clone(ctl, api, broker, uname):
    src, dst = uname("csrc"), uname("cdst")
    x, qn, pol = "clx.orders", "clq.orders", "clpol"
    ctl.run("add", "vhost", src, "--description", "orders, staging")
    try:
        # guest's permissions on the source are copied as they are
        ctl.run("-V", src, "set", "permissions", "guest", "--configure", "^cl[qx]\\.",
                "--write", "^cl[qx]\\.", "--read", "^cl[qx]\\.")
        ctl.run("-V", src, "declare", "exchange", x, "--type", "direct", "--durable")
        ctl.run("-V", src, "declare", "queue", qn, "--durable", "--arg", "x-max-length=100")
        ctl.run("-V", src, "declare", "binding", x, qn, "-k", "new")
        ctl.run("-V", src, "set", "policy", pol, "--pattern", "^clq\\.", "--definition",
                '{"max-length": 3}', "--apply-to", "queues")
        out = ctl.run("clone", "vhost", src, dst).stdout
        assert out == ("cloned vhost '%s' into '%s': 1 policies, 1 queues, 1 exchanges, "
                       "1 bindings; user 'guest' has the same permissions there\n" % (src, dst))
        assert api.get("/api/permissions/%s/guest" % q(dst)).json == dict(
            api.get("/api/permissions/%s/guest" % q(src)).json, vhost=dst)
        assert api.get("/api/vhosts/" + q(dst)).json["description"] == "orders, staging"
        got = api.get("/api/queues/%s/%s" % (q(dst), q(qn))).json
        assert got["durable"] and got["arguments"] == {"x-max-length": 100}
        assert [p["definition"] for p in ctl.json("list", "policies", "-V", dst)] == \
            [{"max-length": 3}]
        # a client uses the clone: the binding routes, the policy applies, the source is apart
        c = broker.connect(vhost=dst)
        try:
            ch = c.channel()
            ch.confirm_delivery()
            for i in range(5):
                ch.basic_publish(x, "new", b"order-%d" % i)
            assert ch.queue_declare(qn, passive=True).method.message_count == 3
            _, _, body = ch.basic_get(qn, auto_ack=True)
            assert body == b"order-2"
        finally:
            c.close()
        c = broker.connect(vhost=src)
        try:
            assert c.channel().queue_declare(qn, passive=True).method.message_count == 0
        finally:
            c.close()
        # the destination must be new, the source must exist
        assert ctl.error(1, "clone", "vhost", src, dst) == \
            "pulsectl: vhost '%s' already exists" % dst
        assert ctl.error(3, "clone", "vhost", "no-such-vhost", uname("x")) == \
            "pulsectl: vhost 'no-such-vhost' not found"
    finally:
        ctl.run("delete", "vhost", dst, expect=None)
        ctl.run("delete", "vhost", src)


def test_clone_copies_no_permissions_when_there_are_none(ctl, api, uname):
    src, dst = uname("cnone"), uname("cnone-dst")
    ctl.run("add", "vhost", src)
    try:
        ctl.run("-V", src, "declare", "queue", "kept", "--durable")
        ctl.run("-V", src, "clear", "permissions", "guest")
        out = ctl.run("clone", "vhost", src, dst).stdout
        assert out.endswith("1 queues; user 'guest' has no permissions there, as on '%s'\n" % src)
        assert api.get("/api/permissions/%s/guest" % q(dst)).status == 404
        # guest has no access to dst now; its definitions are still an administrator's to read
        assert [x["name"] for x in api.get("/api/definitions/" + q(dst)).json["queues"]] == \
            ["kept"]
    finally:
        ctl.run("delete", "vhost", dst, expect=None)
        ctl.run("delete", "vhost", src)


def test_clone_needs_an_administrator(ctl, api, uname):
    # alice (management) may not create vhosts: nothing is left behind
    dst = uname("cdeny")
    err = ctl.error(77, "clone", "vhost", "pulse-test", dst, user="alice",
                    password="alice-secret1")
    assert "Not administrator user" in err
    assert api.get("/api/vhosts/" + q(dst)).status == 404
