"""pulsectl (tools/pulsectl): usage, exit statuses, status and lists.

See pulsectl_common.py for how pulsectl is run (both targets).
"""
import json
import os
import re
import socket
import subprocess

import pytest

from harness.broker import HOST, free_port
from pulsectl_common import binary, ctl, table  # noqa: F401 (fixtures)


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
    ("ftp://x", "expected http[s]://HOST[:PORT][/PATH]"),
    ("http://127.0.0.1:99999", "expected http[s]://HOST[:PORT][/PATH]"),
    ("https://127.0.0.1:0", "expected http[s]://HOST[:PORT][/PATH]"),
    ("http://guest:guest@127.0.0.1", "give credentials with -u/-p"),
    ("https://guest:guest@127.0.0.1", "give credentials with -u/-p"),
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
