"""`pulsectl pulse ...` (issue 14, tools/pulsectl/README.md "Pulse accounts and the guardian"):
the real binary against a real pulsed serving /api/pulse with the guardian enabled. What a user
sees: tables, --json, exit statuses, the API's reasons for 403/404/409, a claim's connection
string that pika connects with, guardian settings, notices of a flooded queue (also followed
as they come), unbounded flags. Against RabbitMQ pulsectl says there is no Pulse API there
(pulse-guardian is to serve it in front of RabbitMQ; not used here)."""
import json
import re
import select
import subprocess

import pika
import pytest

from harness.broker import PulsedBroker, free_port
from harness.http_api import HttpApi, q
from harness.pulse_targets import broker_for
from harness.util import wait_for
from pulsectl_common import Ctl, binary, table  # noqa: F401 (fixtures)

P = "/api/pulse"


def start(guardian=True):
    b = PulsedBroker()
    b.port = free_port()
    b.config = {"pulse.accounts.connection_url": "amqp://127.0.0.1:%d" % b.port}
    if guardian:
        b.config.update({"pulse.guardian.enabled": True, "pulse.guardian.interval": 1,
                         "pulse.guardian.warn_queue_size": 5,
                         "pulse.guardian.delete_queue_size": 10})
    return b.start()


@pytest.fixture(scope="module")
def pulsed():
    b = start()
    yield b
    b.stop()


@pytest.fixture
def ctl(binary, pulsed):
    return Ctl(binary, pulsed)


def fields(text):
    """The "key  value" lines of a shown object as a dict."""
    out = {}
    for line in text.splitlines():
        parts = line.split(None, 1)
        if parts:
            out[parts[0]] = parts[1] if len(parts) > 1 else ""
    return out


def make_owner(ctl, email, password="ownerpw1"):
    p = ctl.run("pulse", "owners", "create", email, "--display-name", email.split("@")[0],
                "--password", "-", stdin=password + "\n")
    assert p.stdout == "created owner '%s'\n" % email, p.stdout


def fill(broker, queue, n):
    conn = broker.connect()
    ch = conn.channel()
    ch.confirm_delivery()
    ch.queue_declare(queue)
    for _ in range(n):
        ch.basic_publish("", queue, b"x")
    conn.close()


def test_help_lists_every_pulse_command(ctl):
    out = ctl.run("pulse", "--help").stdout
    for noun in ("whoami", "owners", "users", "namespaces", "guardian"):
        assert re.search(r"\n  %s[ ,]" % noun, out), out
    assert "pulsectl pulse" in ctl.run("--help").stdout
    verbs = {"owners": ["list", "show", "create", "update", "delete"],
             "users": ["list", "show", "create", "set-password", "delete", "queues"],
             "namespaces": ["list", "show", "claim", "release"],
             "guardian": ["show", "set", "owners", "notices", "unbounded"]}
    for noun, words in verbs.items():
        out = ctl.run("pulse", noun, "--help").stdout
        for verb in words:
            assert "\n  %s " % verb in out, (noun, verb, out)
    out = ctl.run("pulse", "guardian", "unbounded", "--help").stdout
    assert "\n  add " in out and "\n  remove " in out


@pytest.mark.parametrize("args, text", [
    (["pulse"], "pulsectl pulse: a command is required: whoami, owners, users, namespaces, "
                "guardian"),
    (["pulse", "guardian", "owners"], "pulsectl pulse guardian owners: a command is required: "
                                      "list, set, reset"),
    (["pulse", "owners", "show"], "EMAIL is required"),
    (["pulse", "users", "create", "x"], "--password is required"),
    (["pulse", "owners", "create", "a@b.c", "--admin", "yes"], "--admin: yes not in"),
    (["pulse", "namespaces", "claim", "ns"], "--expires is required"),
    (["pulse", "namespaces", "claim", "ns", "--expires", "tomorrow"],
     "pulsectl: --expires 'tomorrow': expected an RFC 3339 time"),
    (["pulse", "guardian", "set", "colour=red"], "pulsectl: guardian set: unknown setting "
                                                 "'colour' (settings: interval, "),
    (["pulse", "guardian", "set", "interval=soon"], "pulsectl: interval 'soon': expected "
                                                    "seconds or a duration"),
    (["pulse", "guardian", "owners", "set", "o"], "--warn or --delete (or both) is required"),
    (["pulse", "guardian", "notices", "--limit", "0"], "--limit"),
    (["pulse", "guardian", "unbounded", "add", "/"], "QUEUE is required"),
    (["pulse", "owners", "update", "a@b.c"], "pulsectl: owners update: nothing to change"),
    (["pulse", "users", "show", ""], "NAME: must not be empty"),
])
def test_bad_arguments_are_usage_errors(ctl, args, text):
    assert text in ctl.error(2, *args)


def test_owners_and_users(ctl, pulsed):
    admin = HttpApi(pulsed)
    out = fields(ctl.run("pulse", "whoami").stdout)
    assert out["name"] == "guest" and out["admin"] == "true" and out["owner"] == "false", out

    make_owner(ctl, "alice@example.com")
    make_owner(ctl, "bob@example.com")
    assert "pulsectl: owner 'alice@example.com' already exists (owners update changes it)" == ctl.error(
        1, "pulse", "owners", "create", "alice@example.com")
    rows = table(ctl.run("pulse", "owners", "list").stdout)
    assert rows[0] == ["email", "display_name", "admin", "login", "users", "created"]
    alice = [r for r in rows if r[0] == "alice@example.com"][0]
    assert alice[1:4] == ["alice", "false", "true"], rows
    listed = ctl.json("pulse", "owners", "list")
    assert {"email": "bob@example.com", "display_name": "bob", "admin": False, "login": True,
            "users": []} == {k: v for k, v in listed[1].items() if k != "created"}, listed
    assert ctl.error(3, "pulse", "owners", "show", "nobody@example.com") == \
        "pulsectl: no owner 'nobody@example.com'"
    assert ctl.error(3, "pulse", "owners", "update", "nobody@example.com",
                     "--display-name", "N") == "pulsectl: no owner 'nobody@example.com'"
    p = ctl.run("pulse", "owners", "update", "bob@example.com", "--display-name", "Bob B")
    assert p.stdout == "updated owner 'bob@example.com'\n"
    assert ctl.json("pulse", "owners", "show", "bob@example.com")["display_name"] == "Bob B"

    # An owner signs in with its email; the password from stdin.
    def as_alice(*args, **kw):
        return ctl.run(*args, user="alice@example.com", password="-",
                       stdin="ownerpw1\n" + kw.pop("stdin", ""), **kw)
    me = json.loads(as_alice("--json", "pulse", "whoami").stdout)
    assert me == {"name": "alice@example.com", "tags": ["management"], "owner": True,
                  "admin": False, "display_name": "alice", "users": []}
    p = as_alice("pulse", "users", "create", "ann", "--password", "-", "--description", "CI",
                 stdin="annpw001\n")
    assert p.stdout == "created Pulse user 'ann'\n"
    p = as_alice("pulse", "owners", "list", expect=77)
    assert p.stderr == ("pulsectl: only administrators may list the owners "
                        "(HTTP 403 for user 'alice@example.com')\n")
    p = ctl.run("pulse", "users", "show", "ann", user="bob@example.com", password="ownerpw1",
                expect=77)
    assert p.stderr == ("pulsectl: 'bob@example.com' does not own Pulse user 'ann' "
                        "(HTTP 403 for user 'bob@example.com')\n"), p.stderr
    rows = table(as_alice("pulse", "users", "list").stdout)
    assert rows[0] == ["name", "owners", "description", "queue_count", "created"]
    assert rows[1][:4] == ["ann", "alice@example.com", "CI", "0"], rows
    assert fields(ctl.run("pulse", "users", "show", "ann").stdout)["owners"] == \
        "alice@example.com"
    assert ctl.error(1, "pulse", "users", "create", "ann", "--password", "whatever1") == (
        "pulsectl: Pulse user 'ann' already exists (users set-password changes its password)")

    conn = pulsed.connect("ann", "annpw001")
    ch = conn.channel()
    ch.confirm_delivery()
    ch.exchange_declare("exchange/ann/x", "topic", durable=True)
    ch.queue_declare("queue/ann/q", durable=True)
    ch.queue_bind("queue/ann/q", "exchange/ann/x", "a.#")
    for i in range(3):
        ch.basic_publish("exchange/ann/x", "a.b", b"m")
    conn.close()
    rows = table(ctl.run("pulse", "users", "queues", "ann").stdout)
    assert rows[0] == ["vhost", "name", "messages", "messages_ready", "messages_unacknowledged",
                       "consumers", "bindings"]
    assert rows[1] == ["/", "queue/ann/q", "3", "3", "0", "0", "exchange/ann/x[a.#]"], rows
    queues = json.loads(as_alice("--json", "pulse", "users", "queues", "ann").stdout)
    assert queues[0]["bindings"] == [{"source": "exchange/ann/x", "routing_key": "a.#"}]

    p = as_alice("pulse", "users", "set-password", "ann", stdin="annpw002\n")
    assert p.stdout == "changed the password of Pulse user 'ann' (its open connections stay)\n"
    with pytest.raises(pika.exceptions.ProbableAuthenticationError):
        pulsed.connect("ann", "annpw001").close()
    pulsed.connect("ann", "annpw002").close()
    # A PUT would make the user: set-password checks it exists first.
    assert "nobody" in ctl.error(3, "pulse", "users", "set-password", "nobody", "--password",
                                 "secret99")
    assert admin.get(P + "/users/nobody").status == 404
    assert ctl.error(1, "pulse", "users", "create", "shorty", "--password", "abcdef1") == \
        "pulsectl: 'guest' is not a Pulse owner: name the owner (HTTP 400)"
    assert "at least 6" in ctl.error(1, "pulse", "users", "create", "shorty", "--password",
                                     "abc", "--owner", "alice@example.com")

    err = ctl.error(1, "pulse", "owners", "delete", "alice@example.com")
    assert err.endswith("(HTTP 409)") and "ann" in err, err
    p = as_alice("pulse", "users", "delete", "ann", "--delete-queues")
    assert p.stdout == "deleted Pulse user 'ann' and its queues\n"
    assert admin.get("/api/queues/%2F/" + q("queue/ann/q")).status == 404
    assert ctl.run("pulse", "owners", "delete", "alice@example.com").stdout == \
        "deleted owner 'alice@example.com'\n"
    ctl.run("pulse", "owners", "show", "alice@example.com", expect=3)
    # Its login went with it.
    assert ctl.run("pulse", "whoami", user="alice@example.com", password="ownerpw1",
                   expect=77).stderr.startswith("pulsectl: ")


def test_namespace_claim_gives_a_working_connection_string(ctl, pulsed):
    out = ctl.run("pulse", "namespaces", "claim", "ci", "--expires", "+1h", "--contact",
                  "ci@example.com").stdout
    assert out.startswith("claimed namespace 'ci'\n"), out
    creds = fields(out.split("\n", 1)[1])
    assert creds["username"] == "ci-1" and creds["namespace"] == "ci", creds
    assert creds["connection_string"].startswith("amqp://ci-1:"), creds
    assert len(creds["password"]) >= 6
    conn = pika.BlockingConnection(pika.URLParameters(creds["connection_string"]))
    conn.channel().exchange_declare("exchange/ci/builds", "topic", durable=True)
    conn.close()

    again = ctl.json("pulse", "namespaces", "claim", "ci", "--expires", "2099-01-01T00:00:00Z")
    assert again["password"] == creds["password"] and again["expires"] == "2099-01-01T00:00:00Z"
    assert ctl.run("pulse", "claims", "claim", "ci", "--expires", "+2d").stdout.startswith(
        "refreshed the claim of namespace 'ci'\n")
    rows = table(ctl.run("pulse", "namespaces", "list").stdout)
    assert rows[0] == ["namespace", "expires", "contact", "current_user", "reclaim_at"]
    assert rows[1][0] == "ci" and rows[1][2:4] == ["ci@example.com", "ci-1"], rows
    shown = ctl.json("pulse", "namespaces", "show", "ci")
    assert shown["users"] == ["ci-1", "ci-2"] and "password" not in shown

    make_owner(ctl, "carl@example.com")
    p = ctl.run("pulse", "namespaces", "claim", "x", "--expires", "+1d",
                user="carl@example.com", password="ownerpw1", expect=77)
    assert "only administrators may see and claim namespaces" in p.stderr
    assert ctl.error(2, "pulse", "namespaces", "claim", "x", "--expires", "+0s") == \
        "pulsectl: --expires '+0s' is not in the future"
    assert ctl.run("pulse", "namespaces", "release", "ci").stdout == \
        "released namespace 'ci'\n"
    assert ctl.error(3, "pulse", "namespaces", "show", "ci") == \
        "pulsectl: no claim of namespace 'ci'"
    with pytest.raises(pika.exceptions.ProbableAuthenticationError):
        pika.BlockingConnection(pika.URLParameters(creds["connection_string"])).close()


def test_guardian_settings_owner_thresholds_notices_and_unbounded(ctl, pulsed):
    admin = HttpApi(pulsed)
    make_owner(ctl, "gus@example.com")
    ctl.run("pulse", "users", "create", "gus", "--owner", "gus@example.com", "--password",
            "guspw001")

    shown = table(ctl.run("pulse", "guardian", "show").stdout)
    assert ["enabled", "true"] in shown
    assert ["setting", "value", "set_by"] in shown
    assert ["warn_queue_size", "5", "config"] in shown, shown
    out = table(ctl.run("pulse", "guardian", "set", "warn_queue_size=4", "interval=1s").stdout)
    assert ["warn_queue_size", "4", "api"] in out and ["interval", "1", "api"] in out, out
    assert ["warn_queue_size", "4", "api"] in table(ctl.run("pulse", "guardian", "show").stdout)
    g = ctl.json("pulse", "guardian", "show")
    assert g["overrides"]["warn_queue_size"] == 4 and g["settings"]["warn_queue_size"] == 4
    err = ctl.error(1, "pulse", "guardian", "set", "warn_queue_size=50")
    assert "warn_queue_size" in err and err.endswith("(HTTP 400)"), err
    out = ctl.json("pulse", "guardian", "set", "interval=default")
    assert out["overrides"]["interval"] is None
    p = ctl.run("pulse", "guardian", "set", "warn_queue_size=3", user="gus@example.com",
                password="ownerpw1", expect=77)
    assert "only administrators may change the guardian's settings" in p.stderr

    # Per-owner thresholds.
    assert ctl.run("pulse", "guardian", "owners", "set", "gus", "--warn", "2", "--delete",
                   "8").stdout == ("set the thresholds of owner 'gus': warn_queue_size 2, "
                                   "delete_queue_size 8\n")
    rows = table(ctl.run("pulse", "guardian", "owners", "list").stdout)
    assert rows == [["owner", "warn_queue_size", "delete_queue_size", "set_by"],
                    ["gus", "2", "8", "api"]], rows
    # An entry is replaced as a whole.
    assert ctl.run("pulse", "guardian", "owners", "set", "gus", "--delete", "9").stdout == (
        "set the thresholds of owner 'gus': warn_queue_size global, delete_queue_size 9\n")
    assert ctl.json("pulse", "guardian", "owners", "list") == [
        {"owner": "gus", "warn_queue_size": None, "delete_queue_size": 9, "set_by": "api"}]
    assert ctl.run("pulse", "guardian", "owners", "reset", "gus").stdout.startswith(
        "reset the thresholds of owner 'gus'")
    assert ctl.error(3, "pulse", "guardian", "owners", "reset", "gus") == \
        "pulsectl: no thresholds of owner 'gus'"

    # Unbounded flags: a queue name with slashes, the default vhost "/".
    keep = "queue/gus/keep"
    assert ctl.run("pulse", "guardian", "unbounded", "add", "/", keep).stdout == \
        "marked queue '%s' in vhost '/' unbounded\n" % keep
    assert ctl.run("pulse", "guardian", "unbounded", "add", "/", keep).stdout == \
        "queue '%s' in vhost '/' was already unbounded\n" % keep
    assert admin.get(P + "/guardian/unbounded/%2F/" + q(keep)).status == 200
    rows = table(ctl.run("pulse", "guardian", "unbounded", "list").stdout)
    assert rows == [["vhost", "queue", "set_by"], ["/", keep, "api"]], rows

    # Notices: a queue flooded past warn_queue_size (4) warns, and is kept (unbounded).
    last = ctl.json("pulse", "guardian", "show")["last_notice_id"]
    follow = subprocess.Popen(
        [ctl.binary, "--url", ctl.url, "-u", "gus@example.com", "-p", "ownerpw1", "--json",
         "pulse", "guardian", "notices", "--follow", "--poll", "0.2", "--after", str(last)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        fill(pulsed, keep, 7)
        notices = wait_for(lambda: [n for n in ctl.json("pulse", "guardian", "notices",
                                                        "--after", str(last))
                                    if n.get("queue") == keep], timeout=15, interval=0.2,
                           msg="a warning for " + keep)
        n = notices[0]
        assert n["event"] == "warning" and n["unbounded"] is True and n["owner"] == "gus", n
        rows = table(ctl.run("pulse", "guardian", "notices", "--owner", "gus").stdout)
        assert rows[0] == ["id", "time", "event", "owner", "vhost", "object", "messages"]
        assert [str(n["id"]), n["time"], "warning", "gus", "/", keep, "7"] in rows, rows
        assert ctl.json("pulse", "guardian", "notices", "--after", str(n["id"]),
                        "--owner", "gus") == []
        assert len(ctl.json("pulse", "guardian", "notices", "--limit", "1")) == 1
        # The follower (gus, an owner: its users' notices) printed it as one JSON line.
        ready, _, _ = select.select([follow.stdout], [], [], 10)
        assert ready, "the follower printed nothing"
        line = json.loads(follow.stdout.readline())
        assert line["id"] == n["id"] and line["queue"] == keep, line
        assert follow.poll() is None  # still following
    finally:
        follow.terminate()
        follow.wait(10)
    assert admin.get("/api/queues/%2F/" + q(keep)).status == 200

    assert ctl.run("pulse", "guardian", "unbounded", "remove", "/", keep).stdout == \
        "queue '%s' in vhost '/' is no longer unbounded\n" % keep
    assert ctl.error(3, "pulse", "guardian", "unbounded", "remove", "/", keep) == \
        "pulsectl: queue '%s' in vhost '/' is not marked unbounded" % keep
    p = ctl.run("pulse", "guardian", "unbounded", "add", "/", "queue/gus/x",
                user="gus@example.com", password="ownerpw1", expect=77)
    assert "only administrators may mark queues unbounded" in p.stderr


def test_login_failures_a_monitoring_user_and_a_stopped_guardian(binary, pulsed):
    ctl = Ctl(binary, pulsed)
    p = ctl.run("pulse", "whoami", password="wrong", expect=77)
    assert p.stderr.startswith("pulsectl: ") and "HTTP 401" in p.stderr, p.stderr
    # A monitoring user reads the guardian and nothing else of Pulse.
    assert HttpApi(pulsed).put("/api/users/watcher", {"password": "watchpw1",
                                                     "tags": "monitoring"}).status in (201, 204)
    watch = dict(user="watcher", password="watchpw1")
    assert ["enabled", "true"] in table(ctl.run("pulse", "guardian", "show", **watch).stdout)
    assert isinstance(json.loads(ctl.run("--json", "pulse", "guardian", "notices",
                                         **watch).stdout), list)
    assert ctl.run("pulse", "users", "list", expect=77, **watch).stderr == (
        "pulsectl: 'watcher' is neither a Pulse owner nor an administrator "
        "(HTTP 403 for user 'watcher')\n")
    b = start(guardian=False)
    try:
        err = Ctl(binary, b).error(1, "pulse", "guardian", "show")
        assert err == "pulsectl: the guardian is not running (HTTP 503)"
        assert Ctl(binary, b).json("pulse", "whoami")["admin"] is True
    finally:
        b.stop()


def test_rabbitmq_has_no_pulse_api(binary, _broker_registry, request):
    rabbit = broker_for("rabbitmq", _broker_registry, lambda: request.getfixturevalue("broker"))
    err = Ctl(binary, rabbit).error(1, "pulse", "whoami")
    assert err.startswith("pulsectl: there is no Pulse API at http://"), err
    assert "pulse-guardian" in err
