"""pulsectl (tools/pulsectl), the management API's command-line client, run as a real process
against the broker's HTTP API: every command, table/--json/--columns output, error texts and the
documented exit statuses (0 ok, 1 API error, 2 usage, 3 not found, 69 unreachable, 77 not
authorised). Runs unchanged against RabbitMQ (PULSE_TEST_TARGET=rabbitmq): pulsectl only speaks
the management API.

Connections, channels and consumers need /api/connections & co. in pulsed (branch mgmt-conns).
"""
import json
import os
import re
import socket
import subprocess

import pika
import pytest

from harness.broker import HOST, free_port, tool_binary
from harness.http_api import HttpApi, q
from harness.util import wait_for

V = q("/")


def ctl_binary():
    return tool_binary("PULSECTL_BIN", "pulsectl")


@pytest.fixture(scope="module")
def binary():
    b = ctl_binary()
    if not os.access(b, os.X_OK):
        pytest.fail("pulsectl not built: %s (set PULSECTL_BIN)" % b)
    return b


@pytest.fixture
def api(broker):
    return HttpApi(broker)


class Ctl:
    def __init__(self, binary, broker):
        self.binary = binary
        self.url = "http://%s:%d" % (HOST, broker.http_port)

    def run(self, *args, expect=0, user="guest", password="guest", stdin=None, env=None,
            url=None):
        cmd = [self.binary, "--url", url or self.url, "-u", user, "-p", password]
        cmd += [str(a) for a in args]
        full_env = dict(os.environ)
        for k in ("PULSECTL_URL", "PULSECTL_USER", "PULSECTL_PASSWORD"):
            full_env.pop(k, None)
        full_env.update(env or {})
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, input=stdin,
                           env=full_env)
        if expect is not None:
            assert p.returncode == expect, "%s -> %d (expected %d)\nstdout:\n%s\nstderr:\n%s" % (
                " ".join(cmd), p.returncode, expect, p.stdout, p.stderr)
        return p

    def json(self, *args, **kw):
        return json.loads(self.run("--json", *args, **kw).stdout)

    def error(self, expect, *args, **kw):
        """stderr (one line, prefixed) of a command that must fail with exit status `expect`."""
        p = self.run(*args, expect=expect, **kw)
        assert p.stdout == "", p.stdout
        return p.stderr.strip()


@pytest.fixture
def ctl(binary, broker):
    return Ctl(binary, broker)


def table(text):
    """Header and rows of an aligned table, cells split on runs of 2+ spaces."""
    lines = [line for line in text.splitlines()]
    return [re.split(r"\s{2,}", line.strip()) for line in lines]


# -- usage, help, exit statuses -------------------------------------------------------------

def test_help_documents_exit_statuses(ctl):
    p = ctl.run("--help")
    for line in ("0  success", "1  the server refused", "2  usage error", "3  not found",
                 "69  server unreachable", "77  not authorised"):
        assert line in p.stdout, p.stdout
    for cmd in ("status", "list", "declare", "delete", "purge", "close", "add", "set", "clear",
                "export", "import", "clone"):
        assert "\n  %s " % cmd in p.stdout, cmd
    assert "--columns" in ctl.run("list", "--help").stdout
    assert ctl.run("--version").stdout.startswith("pulsectl ")


@pytest.mark.parametrize("args, text", [
    (["frobnicate"], "not expected: frobnicate"),
    ([], "pulsectl: a command is required: status, list, declare"),
    (["declare"], "pulsectl declare: a command is required: queue, exchange, binding"),
    (["declare", "queue"], "NAME is required"),
    (["declare", "widget"], "not expected: widget"),
    (["list", "widgets"], "widgets not in {queues,exchanges,bindings,connections,channels,"
                          "consumers,users,vhosts,permissions,policies}"),
    (["declare", "exchange", "x"], "--type is required"),
    (["declare", "binding", "a", "b", "--destination-type", "topic"], "topic not in"),
    (["add", "user", "someone"], "--password or --password-hash is required"),
    (["declare", "queue", "q", "--arg", "novalue"], "--arg novalue: expected KEY=VALUE"),
    (["set", "policy", "p", "--pattern", ".", "--definition", "[1"], "--definition: expected"),
    (["--timeout", "-1", "status"], "--timeout"),
])
def test_usage_errors_exit_2(ctl, args, text):
    p = ctl.run(*args, expect=2)
    assert text in p.stderr, p.stderr
    assert p.stdout == ""


@pytest.mark.parametrize("url, text", [
    ("https://127.0.0.1:15671", "https is not supported"),
    ("ftp://x", "expected http://HOST[:PORT][/PATH]"),
    ("http://127.0.0.1:99999", "expected http://HOST[:PORT][/PATH]"),
    ("http://guest:guest@127.0.0.1", "give credentials with -u/-p"),
])
def test_bad_url_is_a_usage_error(ctl, url, text):
    assert text in ctl.error(2, "status", url=url)


def test_unreachable_exits_69(ctl):
    port = free_port()  # nothing listens there
    err = ctl.error(69, "list", "queues", url="http://127.0.0.1:%d" % port)
    assert err == "pulsectl: cannot reach http://127.0.0.1:%d: Connection refused" % port
    err = ctl.error(69, "status", url="http://no-such-host.invalid:15672")
    assert "cannot reach http://no-such-host.invalid:15672: cannot resolve" in err


def test_silent_server_times_out_with_69(ctl):
    # The kernel completes the handshake for the backlog; nobody ever answers.
    s = socket.socket()
    s.bind((HOST, 0))
    s.listen(4)
    try:
        p = ctl.run("--timeout", "0.5", "status", expect=69,
                    url="http://127.0.0.1:%d" % s.getsockname()[1])
        assert "timed out after 0.5 s trying to read the reply" in p.stderr, p.stderr
    finally:
        s.close()


def test_authentication_errors_exit_77(ctl):
    url = ctl.url
    err = ctl.error(77, "list", "queues", password="wrong")
    assert err == "pulsectl: Login failed (HTTP 401 for user 'guest' at %s)" % url
    assert "Not management user" in ctl.error(77, "status", user="bob", password="bob-secret2")
    # alice is a management user: she may list queues but not users.
    ctl.run("list", "queues", user="alice", password="alice-secret1")
    assert "Not administrator user" in ctl.error(77, "list", "users", user="alice",
                                                 password="alice-secret1")


def test_environment_variables(binary, broker):
    env = dict(os.environ, PULSECTL_URL="http://%s:%d" % (HOST, broker.http_port),
               PULSECTL_USER="alice", PULSECTL_PASSWORD="alice-secret1")
    p = subprocess.run([binary, "--json", "list", "vhosts"], capture_output=True, text=True,
                       env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    # alice sees only the vhosts she has permissions on
    assert {v["name"] for v in json.loads(p.stdout)} == {"/", "pulse-test"}
    env["PULSECTL_PASSWORD"] = "wrong"
    p = subprocess.run([binary, "list", "vhosts"], capture_output=True, text=True, env=env,
                       timeout=60)
    assert p.returncode == 77 and "user 'alice'" in p.stderr


# -- status and lists -----------------------------------------------------------------------

def test_status(ctl, api, broker):
    overview = api.get("/api/overview").json
    out = ctl.run("status").stdout
    lines = dict(line.split(None, 1) for line in out.splitlines())
    assert lines["node"] == overview["node"]
    assert lines["management"] == overview["management_version"]
    assert lines["alarms"] == "none"
    assert "amqp 127.0.0.1:%d" % broker.port in lines["listeners"]
    assert re.fullmatch(r"connections \d+, channels \d+, consumers \d+, queues \d+, "
                        r"exchanges \d+", lines["objects"]), lines["objects"]
    assert lines["messages"].startswith("total ")
    j = ctl.json("status")
    assert j["node"] == overview["node"] and j["alarms"] == []
    assert set(j["object_totals"]) >= {"queues", "exchanges", "connections", "consumers"}
    # a management user without the monitoring tag cannot read /api/nodes: status still works
    out = ctl.run("status", user="alice", password="alice-secret1").stdout
    assert "alarms      unknown" in out


def test_list_every_kind_as_table_and_json(ctl):
    for kind, column in [("queues", "name"), ("exchanges", "name"), ("bindings", "source"),
                         ("users", "name"), ("vhosts", "name"), ("permissions", "user"),
                         ("policies", "name")]:
        head = table(ctl.run("list", kind).stdout)[0]
        assert column in head, (kind, head)
        assert isinstance(ctl.json("list", kind), list)
    users = table(ctl.run("list", "users").stdout)
    assert users[0] == ["name", "tags"]
    assert ["guest", "administrator"] in users
    perms = ctl.json("list", "permissions")
    assert {"user": "bob", "vhost": "/", "configure": "^bob\\.", "write": "^bob\\.",
            "read": "^bob\\."} in perms


def test_list_columns_dotted_paths_and_alignment(ctl, ch, uname):
    a, b = uname("cols"), uname("cols-longer-name")
    ctl.run("declare", "queue", a, "--arg", "x-max-length=5")
    ctl.run("declare", "queue", b)
    try:
        rows = ctl.json("list", "queues", "--columns", "name,arguments.x-max-length,durable")
        by_name = {r["name"]: r for r in rows}
        # --json keeps the API's nesting for dotted paths and leaves absent fields out
        assert by_name[a] == {"name": a, "arguments": {"x-max-length": 5}, "durable": False}
        assert by_name[b] == {"name": b, "durable": False}
        out = ctl.run("list", "queues", "-c", "name,arguments.x-max-length").stdout.splitlines()
        assert out[0].split() == ["name", "arguments.x-max-length"]
        row = [line for line in out if line.startswith(a + " ")][0]
        # numbers are right-aligned under their header; every line is as wide as the header
        assert row.endswith("5") and len(row) == len(out[0]), (row, out[0])
        assert b in out  # trailing blanks are cut
        noheader = ctl.run("list", "queues", "-c", "name", "--no-header").stdout.split()
        assert a in noheader and "name" not in noheader
        p = ctl.run("list", "queues", "-c", "name,no_such_field")
        assert "warning: no queues have 'no_such_field'" in p.stderr
        full = ctl.json("list", "queues", "-c", "all")
        assert "arguments" in [r for r in full if r["name"] == a][0]
    finally:
        ctl.run("delete", "queue", a)
        ctl.run("delete", "queue", b)


def test_lists_honour_vhost(ctl, api, uname):
    vh = uname("ctl-vh")
    qn = uname("inv")
    assert ctl.run("add", "vhost", vh, "--description", "for pulsectl").stdout == \
        "added vhost '%s'\n" % vh
    try:
        ctl.run("--vhost", vh, "declare", "queue", qn, "--durable")
        ctl.run("-V", vh, "set", "policy", "vhp", "--pattern", "^inv", "--definition",
                '{"max-length": 1}')
        only = ctl.json("list", "queues", "--vhost", vh)
        assert [(r["vhost"], r["name"]) for r in only] == [(vh, qn)]
        everywhere = ctl.json("list", "queues")
        assert (vh, qn) in [(r["vhost"], r["name"]) for r in everywhere]
        assert {r["vhost"] for r in everywhere} >= {vh}
        assert [p["name"] for p in ctl.json("list", "policies", "--vhost", vh)] == ["vhp"]
        assert {b["vhost"] for b in ctl.json("list", "bindings", "--vhost", vh)} == {vh}
        assert {x["vhost"] for x in ctl.json("list", "exchanges", "--vhost", vh)} == {vh}
        # the API gives the user creating a vhost full permissions on it
        assert ctl.json("list", "permissions", "--vhost", vh) == [
            {"user": "guest", "vhost": vh, "configure": ".*", "write": ".*", "read": ".*"}]
        # a missing vhost is named as such, for lists and for objects in it
        assert ctl.error(3, "list", "queues", "--vhost", "no-such-vhost") == \
            "pulsectl: vhost 'no-such-vhost' not found"
        assert ctl.error(3, "declare", "queue", "x", "--vhost", "no-such-vhost") == \
            "pulsectl: vhost 'no-such-vhost' not found"
        assert ctl.run("add", "vhost", vh).stdout == "already exists: vhost '%s'\n" % vh
    finally:
        assert ctl.run("delete", "vhost", vh).stdout == "deleted vhost '%s'\n" % vh
    assert ctl.error(3, "delete", "vhost", vh) == "pulsectl: vhost '%s' not found" % vh


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
