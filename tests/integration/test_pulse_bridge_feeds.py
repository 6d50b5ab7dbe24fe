"""pulse-bridge's pollers (tools/pulse-bridge) on pulsed and on a RabbitMQ 3.10 node (the
`pulse_target` fixture), against a local HTTP server standing in for the feeds (no internet):
an HTTP JSON feed with ETag / Last-Modified conditional requests, every new item published once,
the cursor kept across a restart of the bridge (nothing skipped, nothing repeated), 500s backed
off and logged once, then recovered; hg's pushlog (json-pushes?version=2&startID=N) as
changegroup.1 messages keyed by the repository's path; --dry-run; a damaged cursor file."""
import json
import os
import re
import urllib.parse

from harness.util import wait_for
from pulse_bridge_common import (assert_envelope, bridges, consumer, exchanges,  # noqa
                                 feed_server)

LAST_MODIFIED = "Sun, 06 Dec 2026 01:00:00 GMT"


def feed_lines(name, url, exchange, *extra):
    return ["pulse.bridge.sources.%s.type = json_feed" % name,
            "pulse.bridge.sources.%s.url = %s" % (name, url),
            "pulse.bridge.sources.%s.interval = 0.2" % name,
            "pulse.bridge.sources.%s.exchange = %s" % (name, exchange)] + \
        ["pulse.bridge.sources.%s.%s" % (name, e) for e in extra]


def cursor(bridge, name):
    with open(os.path.join(bridge.state_dir, name + ".cursor.json")) as f:
        return json.load(f)


def test_json_feed_conditional_requests_and_cursor_across_restart(
        pulse_target, bridges, exchanges, consumer, feed_server):
    ex = exchanges("feed")
    cons = consumer(ex)
    items = [{"id": "b", "n": 2}, {"id": "a", "n": 1}]  # newest first, as feeds list them
    feed_server.routes["/feed.json"] = (200, {"ETag": '"v1"'}, {"items": items})
    # A second feed: a bare array, Last-Modified only, ids in another field.
    feed_server.routes["/lm.json"] = (200, {"Last-Modified": LAST_MODIFIED}, [{"key": 7}])
    b = bridges(feed_lines("feed", feed_server.url("/feed.json"), ex, "reverse = true",
                           "routing_key = feed.items") +
                feed_lines("lm", feed_server.url("/lm.json"), ex, "id_field = key"),
                uri=pulse_target.uri()).start()
    got = sorted(cons.take(3), key=lambda m: m[0])
    assert [k for k, _ in got] == ["feed.items", "feed.items", "lm"]
    assert [assert_envelope(body, ex, k) for k, body in got] == [items[1], items[0], {"key": 7}]

    # Polled again with the validators, answered 304: nothing more.
    wait_for(lambda: sum(1 for p, h in feed_server.requests
                         if p == "/feed.json" and h.get("if-none-match") == '"v1"') >= 2,
             msg="If-None-Match on /feed.json")
    wait_for(lambda: any(h.get("if-modified-since") == LAST_MODIFIED
                         for p, h in feed_server.requests if p == "/lm.json"),
             msg="If-Modified-Since on /lm.json")
    cons.assert_nothing_more(0.5)

    items = [{"id": "c", "n": 3}] + items
    feed_server.routes["/feed.json"] = (200, {"ETag": '"v2"'}, {"items": items})
    [(key, body)] = cons.take(1)
    assert assert_envelope(body, ex, key) == {"id": "c", "n": 3}
    wait_for(lambda: cursor(b, "feed")["etag"] == '"v2"', msg="the cursor saved")
    assert sorted(cursor(b, "feed")["seen"]) == ["a", "b", "c"]
    assert cursor(b, "lm") == {"etag": "", "last_modified": LAST_MODIFIED, "seen": ["7"]}
    assert os.stat(os.path.join(b.state_dir, "feed.cursor.json")).st_mode & 0o777 == 0o600

    # Down while two items arrive; the restart publishes those two, and only those.
    assert b.stop() == 0
    items = [{"id": "e", "n": 5}, {"id": "d", "n": 4}] + items
    feed_server.routes["/feed.json"] = (200, {"ETag": '"v3"'}, {"items": items})
    b.start()
    got = cons.take(2)
    assert [assert_envelope(body, ex, k)["id"] for k, body in got] == ["d", "e"]
    cons.assert_nothing_more(1.0)
    assert "event=cursor_loaded" in b.log()
    _, _, h = b.health("feed")
    assert h["published"] == 2 and h["polls"] >= 1 and h["status"] == "ok"


def test_json_feed_errors_back_off_log_once_and_recover(
        pulse_target, bridges, exchanges, consumer, feed_server):
    ex = exchanges("feed")
    cons = consumer(ex)
    feed_server.routes["/feed.json"] = (200, {"ETag": '"x"'}, [{"id": 1}])
    feed_server.fail_next = 4
    b = bridges(feed_lines("f", feed_server.url("/feed.json"), ex, "max_backoff = 2"),
                uri=pulse_target.uri()).start()
    [(key, body)] = cons.take(1, timeout=30)
    assert assert_envelope(body, ex, "f") == {"id": 1}
    wait_for(lambda: "source=f event=recovered failures=4" in b.log(), msg="the recovery logged")
    log = b.log()
    warnings = re.findall(r"\[warning\] bridge: source=f event=poll_failed .*", log)
    assert len(warnings) == 1, log
    assert 'reason="GET %s: HTTP 500"' % feed_server.url("/feed.json") in warnings[0]
    delays = [int(d) for d in re.findall(r"source=f event=poll_failed .*?retry_ms=(\d+)", log)]
    assert len(delays) == 4 and delays == sorted(delays) and delays[-1] > delays[0], delays
    _, _, h = b.health("f")
    assert h["errors"] == 4 and h["last_error"].endswith("HTTP 500") and h["status"] == "ok"
    cons.assert_nothing_more(0.5)


def pushlog_route(pushes):
    """json-pushes?version=2&startID=N[&endID=M]: the pushes above N (up to M); without
    startID the last ones, as hg.mozilla.org answers."""
    def route(path):
        query = urllib.parse.parse_qs(urllib.parse.urlparse(path).query)
        assert query.get("version") == ["2"]
        start = int(query.get("startID", [max(pushes, default=0) - 1])[0])
        end = int(query.get("endID", [10 ** 9])[0])
        sel = {str(i): p for i, p in pushes.items() if start < i <= end}
        return (200, {}, {"lastpushid": max(pushes, default=0), "pushes": sel})
    return route


def push(i):
    return {"changesets": ["%040x" % (i * 1000 + 1), "%040x" % (i * 1000 + 2)],
            "date": 1700000000 + i, "user": "user%d@example.org" % i}


def expected_push(repo, i):
    rng = "startID=%d&endID=%d" % (i - 1, i)
    return {"type": "changegroup.1",
            "data": {"repo_url": repo, "heads": ["%040x" % (i * 1000 + 2)],
                     "pushlog_pushes": [{
                         "pushid": i, "time": 1700000000 + i,
                         "user": "user%d@example.org" % i,
                         "push_json_url": repo + "/json-pushes?version=2&" + rng,
                         "push_full_json_url": repo + "/json-pushes?version=2&full=1&" + rng}],
                     "source": "push"}}


def test_hg_pushlog_cursor_across_restart(pulse_target, bridges, exchanges, consumer,
                                          feed_server):
    ex = exchanges("hgpushes")
    cons = consumer(ex, ["integration/#", "integration/mozilla-inbound"])
    pushes = {1: push(1), 2: push(2), 3: push(3)}
    feed_server.routes["/integration/mozilla-inbound/json-pushes"] = pushlog_route(pushes)
    repo = feed_server.url("/integration/mozilla-inbound")
    lines = ["pulse.bridge.sources.inbound.type = hg_pushlog",
             "pulse.bridge.sources.inbound.url = " + repo,
             "pulse.bridge.sources.inbound.interval = 0.2",
             "pulse.bridge.sources.inbound.start_id = 1",
             "pulse.bridge.sources.inbound.batch = 1",  # one push per request: paging
             "pulse.bridge.sources.inbound.exchange = " + ex]
    b = bridges(lines, uri=pulse_target.uri()).start()
    got = cons.take(2)
    key = "integration/mozilla-inbound"
    assert [k for k, _ in got] == [key, key]
    assert [assert_envelope(body, ex, key) for _, body in got] == \
        [expected_push(repo, 2), expected_push(repo, 3)]
    pushes[4] = push(4)
    [(_, body)] = cons.take(1)
    assert body["payload"] == expected_push(repo, 4)
    wait_for(lambda: cursor(b, "inbound") == {"last_push_id": 4}, msg="cursor at push 4")

    assert b.stop() == 0
    pushes[5] = push(5)
    pushes[6] = push(6)
    b.start()
    got = cons.take(2)
    assert [body["payload"]["data"]["pushlog_pushes"][0]["pushid"] for _, body in got] == [5, 6]
    cons.assert_nothing_more(1.0)
    assert any("startID=4&endID=5" in p for p, _ in feed_server.requests)


def test_dry_run_feeds_print_and_keep_no_cursor(bridges, feed_server):
    feed_server.routes["/feed.json"] = (200, {"ETag": '"1"'},
                                        {"items": [{"id": "x"}, {"no": "id"}]})
    pushes = {7: push(7), 8: push(8)}
    feed_server.routes["/central/json-pushes"] = pushlog_route(pushes)
    b = bridges(feed_lines("f", feed_server.url("/feed.json"), "exchange/alice/f") +
                ["pulse.bridge.sources.hg.type = hg_pushlog",
                 "pulse.bridge.sources.hg.url = " + feed_server.url("/central"),
                 "pulse.bridge.sources.hg.interval = 0.2"],
                uri="amqp://alice:x@127.0.0.1:1/", dry_run=True, listen=False).start()
    wait_for(lambda: '"routing_key":"f"' in b.output(), msg="the feed's item printed")
    # No start_id: the pushlog starts from its newest push; only later ones are printed.
    wait_for(lambda: "event=cursor_started last_push_id=8" in b.log(), msg="pushlog cursor")
    pushes[9] = push(9)
    wait_for(lambda: '"routing_key":"central"' in b.output(), msg="push 9 printed")
    lines = [json.loads(line) for line in b.output().splitlines()]
    hg = [line for line in lines if line["exchange"] == "exchange/hgpushes/v2"]
    assert [line["body"]["payload"]["data"]["pushlog_pushes"][0]["pushid"] for line in hg] == [9]
    assert [line["body"]["payload"] for line in lines if line["routing_key"] == "f"] == \
        [{"id": "x"}]
    # An item without an id cannot be published exactly once: skipped, said once.
    wait_for(lambda: feed_server.count("/feed.json") >= 3, msg="three polls")
    assert b.log().count("source=f event=items_without_id count=1 id_field=id") == 1
    assert b.stop() == 0
    assert not os.path.exists(b.state_dir)


def test_damaged_cursor_stops_the_start(bridges, feed_server):
    b = bridges(feed_lines("f", feed_server.url("/feed.json"), "exchange/alice/f"),
                uri="amqp://alice:x@127.0.0.1:1/", listen=False)
    os.makedirs(b.state_dir)
    with open(os.path.join(b.state_dir, "f.cursor.json"), "w") as f:
        f.write("{not json")
    b.start()
    assert b.proc.wait(15) == 2
    assert "f.cursor.json is damaged" in b.log()
