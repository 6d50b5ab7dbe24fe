"""pulse-bridge's webhooks (tools/pulse-bridge) on pulsed and on a RabbitMQ 3.10 node (the
`pulse_target` fixture): real HTTP POSTs to the daemon, a kombu consumer (mozillapulse's
GenericConsumer) checking the exact routing keys and envelopes. GitHub hooks with good, bad and
missing signatures; the generic JSON publisher's token and refusals; Bugzilla push with private
data filtered; /health and /metrics; 503 with Retry-After when the broker is down; --dry-run;
bad config files."""
import json
import subprocess

from harness.broker import free_port
from harness.util import wait_for
from pulse_bridge_common import (Bridge, assert_envelope, bridge_bin, bridges, consumer,  # noqa
                                 exchanges, http, sign)

SECRET = "It's a Secret to Everybody"
TOKEN = "publish-token-1"


def push_body():
    return {"ref": "refs/heads/main",
            "before": "0" * 40, "after": "b" * 40,
            "repository": {"name": "gecko.dev", "full_name": "mozilla/gecko.dev",
                           "html_url": "https://github.com/mozilla/gecko.dev",
                           "owner": {"name": "mozilla", "login": "mozilla"}},
            "pusher": {"name": "alice", "email": "alice@example.org"},
            "commits": [{"id": "a" * 40, "message": "one",
                         "author": {"name": "Alice", "email": "alice@example.org"}},
                        {"id": "b" * 40, "message": "two",
                         "author": {"name": "Bob", "email": "bob.smith@example.org"}}]}


def github_post(bridge, source, event, body, signature="sign", secret=SECRET):
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": event,
               "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958"}
    if signature == "sign":
        headers["X-Hub-Signature-256"] = sign(secret, raw)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return http("POST", bridge.url("/hooks/" + source), raw, headers)


def test_github_push_signed_unsigned_and_ping(pulse_target, bridges, exchanges, consumer):
    ex = exchanges("github")
    cons = consumer(ex)
    b = bridges(["pulse.bridge.sources.gh.type = github",
                 "pulse.bridge.sources.gh.secret_env = GH_SECRET",
                 "pulse.bridge.sources.gh.exchange = " + ex],
                uri=pulse_target.uri(), env={"GH_SECRET": SECRET}).start()

    status, _, body = github_post(b, "gh", "ping", {"zen": "Keep it simple.", "hook_id": 1})
    assert status == 200 and body["ok"] is True

    # Refused before anything is published: no signature, a wrong one, another secret's.
    status, _, body = github_post(b, "gh", "push", push_body(), signature=None)
    assert status == 401 and body["error"] == "unauthorized"
    assert "X-Hub-Signature-256" in body["reason"]
    status, _, body = github_post(b, "gh", "push", push_body(), signature="sha256=" + "0" * 64)
    assert status == 403 and "does not match" in body["reason"]
    status, _, body = github_post(b, "gh", "push", push_body(), secret="not the secret")
    assert status == 403
    cons.assert_nothing_more()

    status, _, body = github_post(b, "gh", "push", push_body())
    assert status == 202, body
    keys = ["github.push.mozilla.gecko%2Edev.heads/main",
            "github.commit.mozilla.gecko%2Edev.heads/main.alice@example%2Eorg",
            "github.commit.mozilla.gecko%2Edev.heads/main.bob%2Esmith@example%2Eorg"]
    assert body["routing_keys"] == keys and body["published"] == 3
    got = cons.take(3)
    assert [k for k, _ in got] == keys
    assert assert_envelope(got[0][1], ex, keys[0]) == push_body()
    commit = assert_envelope(got[2][1], ex, keys[2])
    assert commit["commit"] == push_body()["commits"][1]
    assert (commit["owner"], commit["repo"], commit["ref"]) == ("mozilla", "gecko.dev",
                                                                "refs/heads/main")
    # Other events: github.<event>.<owner>.<repo>.
    pr = {"action": "opened", "number": 7, "repository": push_body()["repository"]}
    status, _, body = github_post(b, "gh", "pull_request", pr)
    assert status == 202
    [(key, msg)] = cons.take(1)
    assert key == "github.pull_request.mozilla.gecko%2Edev"
    assert assert_envelope(msg, ex, key) == pr
    cons.assert_nothing_more()

    _, _, health = b.health("gh")
    assert (health["published"], health["refused"], health["status"]) == (4, 3, "ok")
    status, headers, metrics = http("GET", b.url("/metrics"))
    assert status == 200 and headers["content-type"].startswith("text/plain; version=0.0.4")
    assert 'pulse_bridge_published_total{source="gh",type="github"} 4' in metrics
    assert 'pulse_bridge_refused_total{source="gh",type="github"} 3' in metrics
    assert "pulse_bridge_broker_up 1" in metrics
    assert "source=gh event=refused status=401" in b.log()


def test_github_events_not_configured_are_acknowledged_not_published(
        pulse_target, bridges, exchanges, consumer):
    ex = exchanges("github")
    cons = consumer(ex)
    b = bridges(["pulse.bridge.sources.gh.type = github",
                 "pulse.bridge.sources.gh.secret = " + SECRET,
                 "pulse.bridge.sources.gh.events = push",
                 "pulse.bridge.sources.gh.exchange = " + ex], uri=pulse_target.uri()).start()
    status, _, body = github_post(b, "gh", "issues", {"action": "opened",
                                                      "repository": push_body()["repository"]})
    assert status == 200 and body["published"] == 0 and "issues" in body["ignored"]
    cons.assert_nothing_more()
    assert b.health("gh")[2]["filtered"] == 1


def test_generic_json_publisher(pulse_target, bridges, exchanges, consumer):
    ex = exchanges("api")
    cons = consumer(ex)
    b = bridges(["pulse.bridge.sources.api.type = publish",
                 "pulse.bridge.sources.api.secret = " + TOKEN,
                 "pulse.bridge.sources.api.max_body = 1000",
                 "pulse.bridge.sources.api.exchange = " + ex], uri=pulse_target.uri()).start()
    auth = {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"}
    url = b.url("/publish/api")

    status, _, body = http("POST", url + "?routing_key=build.linux64.finished", {"n": 1}, auth)
    assert status == 202 and body["routing_keys"] == ["build.linux64.finished"]
    status, _, body = http("POST", url, [1, "two"], dict(auth, **{"X-Pulse-Routing-Key": "x.y"}))
    assert status == 202
    got = cons.take(2)
    assert got[0][0] == "build.linux64.finished"
    assert assert_envelope(got[0][1], ex, "build.linux64.finished") == {"n": 1}
    assert assert_envelope(got[1][1], ex, "x.y") == [1, "two"]

    status, headers, body = http("POST", url + "?routing_key=a", {"n": 2})
    assert status == 401 and headers["www-authenticate"] == "Bearer"
    status, _, body = http("POST", url + "?routing_key=a", {"n": 2},
                           {"Authorization": "Bearer wrong"})
    assert status == 403 and body["reason"] == "wrong token"
    status, _, body = http("POST", url + "?routing_key=a", b'{"n": ', auth)
    assert status == 400 and body["reason"] == "the body is not JSON"
    status, _, body = http("POST", url + "?routing_key=a..b", {"n": 2}, auth)
    assert status == 400 and "'..'" in body["reason"]
    status, _, body = http("POST", url, {"n": 2}, auth)
    assert status == 400 and "routing key" in body["reason"]
    status, _, body = http("POST", url + "?routing_key=a", {"pad": "x" * 2000}, auth)
    assert status == 413 and "at most 1000" in body["reason"]
    status, _, body = http("GET", url)
    assert status == 405
    status, _, body = http("POST", b.url("/publish/nosuch?routing_key=a"), {"n": 2}, auth)
    assert status == 404 and "nosuch" in body["reason"]
    status, _, body = http("POST", b.url("/hooks/api?routing_key=a"), {"n": 2}, auth)
    assert status == 404
    cons.assert_nothing_more()
    assert b.health("api")[2]["refused"] == 6


def bug_body(private_bug=False, comment=None):
    bug = {"id": 1234567, "is_private": private_bug, "status": "RESOLVED",
           "resolution": "FIXED", "summary": "a bug"}
    if comment is not None:
        return {"comment": {"id": 99, "is_private": comment, "body": "words", "bug": bug},
                "event": {"action": "create", "target": "comment", "change_set": "1",
                          "user": {"login": "a@example.org"}, "time": "2026-12-06T01:00:00",
                          "changes": []}}
    return {"bug": bug,
            "event": {"action": "modify", "target": "bug", "change_set": "62.1",
                      "routing_key": "bug.modify:status,resolution",
                      "user": {"login": "a@example.org", "real_name": "A"},
                      "time": "2026-12-06T01:00:00",
                      "changes": [{"field": "status", "removed": "NEW", "added": "RESOLVED"},
                                  {"field": "resolution", "removed": "", "added": "FIXED"}]}}


def test_bugzilla_push_filters_private_data(pulse_target, bridges, exchanges, consumer):
    ex = exchanges("bugzilla")
    cons = consumer(ex)
    b = bridges(["pulse.bridge.sources.bmo.type = bugzilla",
                 "pulse.bridge.sources.bmo.secret = " + TOKEN,
                 "pulse.bridge.sources.bmo.exchange = " + ex], uri=pulse_target.uri()).start()
    auth = {"Authorization": "Bearer " + TOKEN}
    url = b.url("/bugzilla/bmo")
    status, _, body = http("POST", url, bug_body(), auth)
    assert status == 202 and body["routing_keys"] == ["bug.modify:status,resolution"]
    status, _, body = http("POST", url, bug_body(comment=False), auth)
    assert status == 202 and body["routing_keys"] == ["comment.create"]
    got = cons.take(2)
    assert got[0][0] == "bug.modify:status,resolution"
    assert assert_envelope(got[0][1], ex, got[0][0]) == bug_body()
    payload = assert_envelope(got[1][1], ex, "comment.create")
    assert payload["comment"]["body"] == "words"
    assert payload["event"]["routing_key"] == "comment.create"

    for private in (bug_body(private_bug=True), bug_body(comment=True),
                    bug_body(private_bug=True, comment=False)):
        status, _, body = http("POST", url, private, auth)
        assert status == 200 and body["published"] == 0, body
    status, _, body = http("POST", url, {"bug": {}}, auth)
    assert status == 400 and "event" in body["reason"]
    status, _, body = http("POST", url, bug_body(), {"Authorization": "Bearer nope"})
    assert status == 403
    cons.assert_nothing_more()
    _, _, h = b.health("bmo")
    assert (h["published"], h["filtered"], h["refused"]) == (2, 3, 2)
    assert "event=filtered routing_key=bug.modify:status,resolution reason=\"private bug\"" \
        in b.log()


def test_broker_down_is_503_with_retry_after(bridges):
    dead = free_port()
    b = bridges(["pulse.bridge.sources.api.type = publish",
                 "pulse.bridge.sources.api.secret = " + TOKEN],
                uri="amqp://guest:guest@127.0.0.1:%d/" % dead).start()
    wait_for(lambda: b.health()[2]["broker"] == "disconnected", timeout=15,
             msg="the bridge to see the broker down")
    status, headers, body = http("POST", b.url("/publish/api?routing_key=a"), {"n": 1},
                                 {"Authorization": "Bearer " + TOKEN})
    assert status == 503 and headers["retry-after"] == "5", body
    assert body["error"] == "unavailable"
    status, _, h = b.health()
    assert status == 503 and h["status"] == "degraded"
    assert "pulse_bridge_broker_up 0" in http("GET", b.url("/metrics"))[2]


def test_broker_outage_503_then_recovery(pulse_target, bridges, exchanges, consumer):
    """The broker goes away (a proxy in front of it drops the connection and refuses new ones):
    requests get 503 with Retry-After and nothing is published; once it is back the publisher
    reconnects by itself and the next request is confirmed and delivered."""
    from harness.fault_proxy import FaultProxy
    ex = exchanges("api")
    cons = consumer(ex)
    with FaultProxy(pulse_target.port) as proxy:
        b = bridges(["pulse.bridge.sources.api.type = publish",
                     "pulse.bridge.sources.api.secret = " + TOKEN,
                     "pulse.bridge.sources.api.exchange = " + ex],
                    uri=pulse_target.uri(port=proxy.port)).start()
        url = b.url("/publish/api?routing_key=outage")
        auth = {"Authorization": "Bearer " + TOKEN}
        assert http("POST", url, {"n": 1}, auth)[0] == 202
        proxy.refuse()
        proxy.drop()
        wait_for(lambda: b.health()[2]["broker"] == "disconnected", timeout=20,
                 msg="the bridge to see the broker gone")
        status, headers, body = http("POST", url, {"n": 2}, auth)
        assert status == 503 and headers["retry-after"] == "5", body
        proxy.accept()
        wait_for(lambda: b.health()[2]["broker"] == "connected", timeout=40,
                 msg="the bridge to reconnect")
        status, _, body = http("POST", url, {"n": 3}, auth)
        assert status == 202, body
        got = cons.take(2)
        assert [body["payload"] for _, body in got] == [{"n": 1}, {"n": 3}]
        cons.assert_nothing_more()
        assert "event=reconnected" in b.log()


def test_broker_refusal_is_502(pulse_target, bridges):
    """A message the broker refuses for good (here: an amq.* exchange that does not exist, which
    nobody may declare) is 502 without Retry-After, with the broker's reason."""
    b = bridges(["pulse.bridge.sources.api.type = publish",
                 "pulse.bridge.sources.api.secret = " + TOKEN,
                 "pulse.bridge.sources.api.exchange = amq.no-such-bridge-exchange"],
                uri=pulse_target.uri()).start()
    status, headers, body = http("POST", b.url("/publish/api?routing_key=a"), {"n": 1},
                                 {"Authorization": "Bearer " + TOKEN})
    assert status == 502 and "retry-after" not in headers, body
    assert body["error"] == "refused_by_broker" and "NOT_FOUND" in body["reason"], body
    _, _, h = b.health("api")
    assert h["errors"] == 1 and h["status"] == "failing"


def test_dry_run_prints_and_needs_no_broker(bridges):
    b = bridges(["pulse.bridge.sources.gh.type = github",
                 "pulse.bridge.sources.gh.secret = " + SECRET],
                uri="amqp://alice:x@127.0.0.1:%d/" % free_port(), dry_run=True).start()
    status, _, body = github_post(b, "gh", "push", push_body())
    assert status == 202, body
    wait_for(lambda: b.output().count("\n") == 3, msg="three lines on stdout")
    lines = [json.loads(line) for line in b.output().splitlines()]
    assert [line["routing_key"] for line in lines] == body["routing_keys"]
    assert {line["exchange"] for line in lines} == {"exchange/alice/github"}
    assert assert_envelope(lines[0]["body"], "exchange/alice/github",
                           lines[0]["routing_key"]) == push_body()
    assert b.health()[2]["broker"] == "dry-run"
    assert b.stop() == 0


def run_bridge(lines, *extra):
    b = Bridge(lines, listen=False)
    return subprocess.run(b.args() + list(extra), capture_output=True, text=True, timeout=30), b


def test_bad_config_and_usage(tmp_path):
    r, b = run_bridge(["pulse.bridge.sources.gh.type = github",
                       "pulse.bridge.sources.gh.secert = x"])
    assert r.returncode == 2
    assert "%s:2: 'pulse.bridge.sources.gh.secert': unknown key 'secert'" % b.config in r.stderr
    r, b = run_bridge(["pulse.bridge.sources.gh.type = github"])
    assert r.returncode == 2 and "needs a secret" in r.stderr
    r, b = run_bridge(["listeners.tcp.default = 5672"])
    assert r.returncode == 2 and "only pulse.bridge.* keys" in r.stderr
    r, b = run_bridge(["pulse.bridge.sources.gh.type = github",
                       "pulse.bridge.sources.gh.secret = x"])
    assert r.returncode == 2 and "--listen" in r.stderr
    r = subprocess.run([bridge_bin(), "--help"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "POST /hooks/<name>" in r.stdout
    r = subprocess.run([bridge_bin()], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "--config FILE is required" in r.stderr


def test_https_listener(bridges):
    """--listen-cert and --listen-key make the listener HTTPS (the project's tls module); a
    signed hook is accepted over it, a plaintext client gets no answer."""
    import http.client
    import socket
    import ssl

    from harness.broker import HOST
    from harness.certs import certs
    c = certs()
    b = bridges(["pulse.bridge.sources.gh.type = github",
                 "pulse.bridge.sources.gh.secret = " + SECRET],
                uri="amqp://alice:x@127.0.0.1:%d/" % free_port(), dry_run=True,
                extra=["--listen-cert", c.server_cert, "--listen-key", c.server_key]).start()
    raw = json.dumps(push_body()).encode()
    conn = http.client.HTTPSConnection("localhost", b.port,
                                       context=ssl.create_default_context(cafile=c.ca),
                                       timeout=10)
    conn.request("POST", "/hooks/gh", raw, {"X-GitHub-Event": "push",
                                            "X-Hub-Signature-256": sign(SECRET, raw)})
    r = conn.getresponse()
    assert r.status == 202 and r.getheader("server") == "pulse-bridge", r.read()
    conn.close()
    wait_for(lambda: b.output().count("\n") == 3, msg="three lines on stdout")
    with socket.create_connection((HOST, b.port), timeout=10) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert not s.recv(100).startswith(b"HTTP/")
