#!/usr/bin/env python3
"""Writes the seed corpora of the Pulse-level fuzz targets (fuzz_http_api, fuzz_definitions,
fuzz_config, fuzz_envelope, fuzz_bridge_ingress) under tests/fuzz/corpus/: requests, documents
and bodies taken from the unit and integration tests, in each harness's input layout (see the
comment at the top of each tests/fuzz/pulse/*.cc). Run from the repository root."""
import base64
import hashlib
import json
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(d, name, data):
    os.makedirs(os.path.join(ROOT, d), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(ROOT, d, name), "wb") as f:
        f.write(data)


# --- fuzz_http_api: records separated by 0x1e; [method][path][user] then lines -------------
METHODS = ["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS"]
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pulse",
                       "fuzz_http_api.cc")) as f:
    src = f.read()
start = src.index("const char* const kPaths[] = {")
PATHS = [l.strip().strip(",").strip('"')
         for l in src[start:src.index("};", start)].splitlines()[1:]]
USERS = ["guest", "alice", "bob", "mon", "pol", "badpw", "none"]


def rec(method, path, fields=(), query="", body="", user="guest"):
    head = bytes([METHODS.index(method), PATHS.index(path), USERS.index(user)])
    return head + ("\n".join(list(fields) + [query]) + "\n" + body).encode()


def seq(*records):
    return b"\x1e".join(records)


decl_q = rec("PUT", "/api/queues/%s/%s", ["%2F", "q1"],
             body='{"durable":true,"arguments":{"x-max-length":10,"x-queue-type":"classic"}}')
decl_x = rec("PUT", "/api/exchanges/%s/%s", ["%2F", "x1"],
             body='{"type":"topic","durable":true,"auto_delete":false,"arguments":{}}')
bind = rec("POST", "/api/bindings/%s/e/%s/q/%s", ["%2F", "x1", "q1"],
           body='{"routing_key":"a.#","arguments":{"x-match":"any"}}')
http = {
    "overview": rec("GET", "/api/overview", query="columns=message_stats,queue_totals"),
    "whoami_alice": rec("GET", "/api/whoami", user="alice"),
    "queue_lifecycle": seq(decl_q, rec("GET", "/api/queues/%s/%s", ["%2F", "q1"]),
                           rec("POST", "/api/queues/%s/%s/get", ["%2F", "q1"],
                               body='{"count":5,"ackmode":"ack_requeue_true",'
                                    '"encoding":"auto","truncate":50000}'),
                           rec("DELETE", "/api/queues/%s/%s/contents", ["%2F", "q1"]),
                           rec("DELETE", "/api/queues/%s/%s", ["%2F", "q1"],
                               query="if-empty=true")),
    "bindings": seq(decl_q, decl_x, bind,
                    rec("GET", "/api/exchanges/%s/%s/bindings/source", ["%2F", "x1"]),
                    rec("DELETE", "/api/bindings/%s/e/%s/q/%s/%s", ["%2F", "x1", "q1", "a.%23"])),
    "publish": seq(decl_q, rec("POST", "/api/exchanges/%s/%s/publish", ["%2F", "amq.default"],
                               body='{"properties":{"delivery_mode":2,"headers":{"h":1}},'
                                    '"routing_key":"q1","payload":"aGVsbG8=",'
                                    '"payload_encoding":"base64"}')),
    "users": seq(rec("PUT", "/api/users/%s", ["carol"],
                     body='{"password":"secret","tags":"management,policymaker"}'),
                 rec("PUT", "/api/permissions/%s/%s", ["%2F", "carol"],
                     body='{"configure":".*","write":"^carol","read":".*"}'),
                 rec("PUT", "/api/topic-permissions/%s/%s", ["%2F", "carol"],
                     body='{"exchange":"amq.topic","write":".*","read":".*"}'),
                 rec("GET", "/api/users/%s/permissions", ["carol"]),
                 rec("POST", "/api/users/bulk-delete", body='{"users":["carol"]}')),
    "user_hash": rec("PUT", "/api/users/%s", ["dave"],
                     body='{"password_hash":"kI4cAUwNVztDq0CFB5Ke+vPW2Ung5T9PXJAGbAXmBU6Orrgk",'
                          '"hashing_algorithm":"rabbit_password_hashing_sha256","tags":[]}'),
    "vhosts": seq(rec("PUT", "/api/vhosts/%s", ["v1"],
                      body='{"description":"d","tags":"a,b","default_queue_type":"classic"}'),
                  rec("PUT", "/api/vhost-limits/%s/%s", ["v1", "max-queues"],
                      body='{"value":5}'),
                  rec("GET", "/api/vhosts/%s/permissions", ["v1"]),
                  rec("DELETE", "/api/vhosts/%s", ["v1"])),
    "policies": seq(rec("PUT", "/api/policies/%s/%s", ["%2F", "p1"],
                        body='{"pattern":"^q","apply-to":"queues","priority":1,'
                             '"definition":{"max-length":100,"message-ttl":6000,'
                             '"dead-letter-exchange":"dlx","overflow":"reject-publish"}}'),
                    rec("GET", "/api/policies/%s", ["%2F"]),
                    rec("DELETE", "/api/policies/%s/%s", ["%2F", "p1"])),
    "parameters": seq(rec("PUT", "/api/parameters/%s/%s/%s", ["vhost-limits", "%2F", "limits"],
                          body='{"value":{"max-connections":10}}'),
                      rec("PUT", "/api/global-parameters/%s", ["cluster_name"],
                          body='{"name":"cluster_name","value":"fuzz"}'),
                      rec("PUT", "/api/user-limits/%s/%s", ["alice", "max-channels"],
                          body='{"value":3}'),
                      rec("GET", "/api/parameters")),
    "cluster_name": rec("PUT", "/api/cluster-name", body='{"name":"rabbit@fuzz"}'),
    "health": seq(rec("GET", "/api/health/checks/%s", ["alarms"]),
                  rec("GET", "/api/health/checks/%s/%s", ["port-listener", "5672"]),
                  rec("GET", "/api/aliveness-test/%s", ["%2F"])),
    "lists_paged": rec("GET", "/api/queues", query="page=1&page_size=100&name=q&use_regex=true"
                                                   "&sort=name&sort_reverse=true"),
    "connections": seq(rec("GET", "/api/connections"),
                       rec("DELETE", "/api/connections/%s", ["127.0.0.1:1 -> 127.0.0.1:5672"]),
                       rec("GET", "/api/channels/%s", ["x (1)"]), rec("GET", "/api/consumers")),
    "feature_flags": rec("GET", "/api/feature-flags"),
    "pulse_accounts": seq(
        rec("PUT", "/api/pulse/%s", ["owners/a%40example.org"],
            body='{"display_name":"A","admin":false,"password":"secret1"}'),
        rec("PUT", "/api/pulse/%s", ["users/build"],
            body='{"password":"secret1","owner":"a@example.org","description":"ci"}'),
        rec("GET", "/api/pulse/%s", ["users/build/queues"]),
        rec("POST", "/api/pulse/%s", ["namespaces/taskcluster"],
            body='{"expires":"2030-01-01T00:00:00Z","contact":"a@example.org"}'),
        rec("GET", "/api/pulse/%s", ["namespaces"]),
        rec("DELETE", "/api/pulse/%s", ["users/build"], query="delete_queues=true"),
        rec("GET", "/api/pulse/%s", ["whoami"])),
    "pulse_guardian": seq(rec("GET", "/api/pulse/%s", ["guardian"]),
                          rec("PUT", "/api/pulse/%s", ["guardian/owners/a"],
                              body='{"warn_queue_size":10}'),
                          rec("GET", "/api/pulse/%s", ["subscriptions"])),
    "definitions_post": rec("POST", "/api/definitions",
                            body='{"vhosts":[{"name":"v2"}],"queues":[{"name":"q","vhost":"v2",'
                                 '"durable":true,"auto_delete":false,"arguments":{}}]}'),
    "definitions_get": rec("GET", "/api/definitions/%s", ["%2F"]),
    "bob_refused": rec("PUT", "/api/queues/%s/%s", ["%2F", "alice.q"], body="{}", user="bob"),
    "no_auth": rec("GET", "/api/overview", user="none"),
    "bad_json": rec("PUT", "/api/exchanges/%s/%s", ["%2F", "x"], body='{"type":'),
    "raw_get": b"RGET /api/overview HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " +
               base64.b64encode(b"guest:guest") + b"\r\n\r\n",
    "raw_put": b"RPUT /api/queues/%2F/raw HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " +
               base64.b64encode(b"guest:guest") +
               b"\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n"
               b'{"durable":true}',
    "raw_chunked": b"RPOST /api/definitions HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " +
                   base64.b64encode(b"guest:guest") +
                   b"\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"vh\r\n"
                   b"d\r\nosts\":[{\"name\r\n8\r\n\":\"c\"}]}\r\n0\r\n\r\n",
}
for k, v in http.items():
    write("http_api", k, v)

# --- fuzz_definitions: the document ------------------------------------------------------
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "..", "integration", "fixtures", "definitions.json"), "rb") as f:
    write("definitions", "rabbitmq_export", f.read())
full = {
    "rabbit_version": "3.10.8",
    "users": [{"name": "u1", "password": "pw", "tags": "management", "limits": {"max-connections": 3}},
              {"name": "u2", "password_hash": "", "hashing_algorithm": "rabbit_password_hashing_sha256",
               "tags": ["monitoring"]}],
    "vhosts": [{"name": "/"}, {"name": "v", "description": "d", "tags": ["t"],
                               "metadata": {"default_queue_type": "classic"}}],
    "permissions": [{"user": "u1", "vhost": "v", "configure": ".*", "write": ".*", "read": ".*"}],
    "topic_permissions": [{"user": "u1", "vhost": "v", "exchange": "amq.topic", "write": "^a",
                           "read": ".*"}],
    "parameters": [{"vhost": "v", "component": "vhost-limits", "name": "limits",
                    "value": {"max-queues": 10, "max-connections": -1}},
                   {"vhost": "v", "component": "federation-upstream", "name": "up",
                    "value": {"uri": "amqp://x"}}],
    "global_parameters": [{"name": "cluster_name", "value": "c"}],
    "policies": [{"vhost": "v", "name": "p", "pattern": "^q", "apply-to": "queues",
                  "priority": 0, "definition": {"max-length": 5, "expires": 100000,
                                                "dead-letter-exchange": "dlx"}}],
    "queues": [{"name": "q", "vhost": "v", "durable": True, "auto_delete": False,
                "arguments": {"x-queue-type": "classic", "x-max-priority": 5,
                              "x-message-ttl": 1000}},
               {"name": "lazy", "vhost": "v", "durable": True, "auto_delete": False,
                "arguments": {"x-queue-mode": "lazy", "x-single-active-consumer": True}}],
    "exchanges": [{"name": "x", "vhost": "v", "type": "headers", "durable": True,
                   "auto_delete": False, "internal": False,
                   "arguments": {"alternate-exchange": "ae"}},
                  {"name": "dlx", "vhost": "v", "type": "fanout", "durable": True,
                   "auto_delete": False, "internal": True, "arguments": {}}],
    "bindings": [{"source": "x", "vhost": "v", "destination": "q", "destination_type": "queue",
                  "routing_key": "", "arguments": {"x-match": "all", "a": 1}},
                 {"source": "x", "vhost": "v", "destination": "dlx",
                  "destination_type": "exchange", "routing_key": "k", "arguments": {}}],
}
write("definitions", "every_section", json.dumps(full, indent=1))
write("definitions", "empty_object", "{}")
write("definitions", "not_json", "queues: [q]\n")
write("definitions", "wrong_types", json.dumps({"queues": {"name": "q"}, "users": [1, "x"],
                                                 "vhosts": [{"name": 5}]}))
write("definitions", "refused_vhost", json.dumps({"queues": [{"name": "q", "vhost": "nope"}]}))

# --- fuzz_config: [parser byte][text] ----------------------------------------------------
with open(os.path.join(here, "..", "..", "packaging", "pulse.conf"), "rb") as f:
    write("config", "packaging_pulse_conf", b"\x00" + f.read())
write("config", "listeners", "\x00listeners.tcp.default = 5672\nlisteners.tcp.v6 = [::1]:5673\n"
      "management.tcp.port = 15672\nmanagement.tcp.ip = 127.0.0.1\n"
      "listeners.ssl.default = 5671\nssl_options.certfile = /nonexistent/c.pem\n")
write("config", "limits", "\x00vm_memory_high_watermark.relative = 0.4\n"
      "disk_free_limit.absolute = 2GB\npaging.queue_memory_limit = 512MiB\n"
      "auth_failure_limit.max_failures = 5\nauth_failure_limit.window = 60\n"
      "channel_max = 128\nframe_max = 131072\nheartbeat = 60\nconsumer_timeout = 1800000\n")
write("config", "stomp", "\x00stomp.listeners.tcp.1 = 61613\nstomp.default_user = guest\n"
      "stomp.default_pass = 'gu#est'\nstomp.implicit_connect = true\n"
      "web_stomp.tcp.port = 15674\nweb_stomp.ws_opts.compress = false\n")
write("config", "pulse_keys", "\x00pulse.namespaces.strict = true\npulse.io.gather_window = 500\n"
      "pulse.guardian.enabled = true\npulse.guardian.interval = 60\n"
      "pulse.guardian.unbounded.warn = 1000\npulse.smtp.host = localhost\n"
      "pulse.smtp.port = 25\npulse.accounts.vhosts = /\npulse.push.enabled = false\n"
      "load_definitions = /nonexistent/defs.json\n")
write("config", "bad_line", "\x00log.console = true\nthis is not a key value\n")
write("config", "lines", "\x01a.b = 'quoted # not a comment'\n# c\n  x_y-z = 1 # c\n")
write("config", "units", "\x02512MiB")
write("config", "listener6", "\x03[::1]:5672")
write("config", "bool", "\x04true")

# --- fuzz_envelope: [mode][...] ---------------------------------------------------------
write("envelope", "mozillapulse", b"\x00" + json.dumps({
    "payload": {"build": {"id": 1, "tags": ["a"]}, "x": 1.5e300},
    "_meta": {"exchange": "exchange/build/", "routing_key": "build.mozilla-central.x",
              "serializer": "json", "sent": "2014-08-01T12:46:42+01:00",
              "master_name": "buildbot-master"}}).encode())
write("envelope", "taskcluster_bare", b"\x00" + json.dumps({
    "status": {"taskId": "abc", "state": "completed"}, "runId": 0, "version": 1}).encode())
write("envelope", "meta_not_object", b'\x00{"payload":1,"_meta":[]}')
write("envelope", "not_json", b"\x00\xff\xfe{")
write("envelope", "build", b"\x01exchange/u/x\nkey.\xc3\xa9.a\n{\"a\":[1,2,{\"b\":null}]}")

# --- fuzz_bridge_ingress: [kind][...] ---------------------------------------------------
push = {"ref": "refs/heads/release/1.2",
        "repository": {"name": "gecko.dev", "html_url": "https://github.com/mozilla/gecko.dev",
                       "owner": {"name": "mozilla", "login": "mozilla"}},
        "pusher": {"name": "alice"},
        "commits": [{"id": "a1", "author": {"email": "alice@example.org"}},
                    {"id": "b2", "author": {"name": "no email"}}]}
write("bridge_ingress", "github_push", b"\x00push\n" + json.dumps(push).encode())
write("bridge_ingress", "github_pr", b"\x00pull_request\n" + json.dumps(
    {"action": "opened", "number": 3, "repository": {"name": "r", "owner": {"login": "o"}}}).encode())
write("bridge_ingress", "github_ping", b"\x00ping\n{\"zen\":\"x\"}")
write("bridge_ingress", "github_unsigned", b"\x00\n{}")
write("bridge_ingress", "publish", b"\x01a.b.c\n{\"hello\":[1,2,3]}")
bug = {"bug": {"id": 1234, "is_private": False, "status": "RESOLVED"},
       "event": {"action": "modify", "target": "bug", "change_set": "62",
                 "routing_key": "bug.modify:status,resolution", "user": {"login": "a@example.org"},
                 "time": "2026-12-06T01:00:00",
                 "changes": [{"field": "status", "removed": "NEW", "added": "RESOLVED"},
                             {"field": "resolution", "removed": "", "added": "FIXED"}]}}
write("bridge_ingress", "bugzilla_modify", b"\x02" + json.dumps(bug).encode())
write("bridge_ingress", "bugzilla_comment", b"\x02" + json.dumps(
    {"comment": {"id": 9, "is_private": True, "bug": {"id": 1, "is_private": False}},
     "event": {"action": "create", "target": "comment"}}).encode())
write("bridge_ingress", "health", b"\x03GET\n/health/gh\n\n")
write("bridge_ingress", "metrics", b"\x03GET\n/metrics\n\n")
write("bridge_ingress", "wrong_token", b"\x03POST\n/publish/pub?routing_key=k\nBearer nope\n{}")
write("bridge_ingress", "feed_array", b"\x04\nid\n" + json.dumps(
    [{"id": "a", "title": "x"}, {"id": 7}, {"no_id": 1}, {"id": "a"}]).encode())
write("bridge_ingress", "feed_items", b"\x04entries\nguid\n" + json.dumps(
    {"entries": [{"guid": "g1", "link": "https://x/1"}, {"guid": 2}]}).encode())
write("bridge_ingress", "pushlog", b"\x05https://hg.mozilla.org/integration/autoland\n10\n" +
      json.dumps({"lastpushid": 12, "pushes": {
          "12": {"changesets": ["c1", "c2"], "date": 1700000012, "user": "b@x"},
          "11": {"changesets": [{"node": "b1", "desc": "d", "author": "a",
                                 "branch": "default", "tags": [], "files": ["f"]}],
                 "date": 1700000011, "user": "a@x"},
          "10": {"changesets": ["a1"], "date": 1700000010, "user": "z@x"}}}).encode())
with open(os.path.join(here, "..", "..", "packaging", "bridge.conf"), "rb") as f:
    write("bridge_ingress", "config_packaging", b"\x06" + f.read())
write("bridge_ingress", "config_all", b"\x06pulse.bridge.listen = 127.0.0.1:8080\npulse.bridge.state_dir = /tmp/x\n"
      b"pulse.bridge.sources.feed.type = json_feed\npulse.bridge.sources.feed.url = http://127.0.0.1:1/feed\n"
      b"pulse.bridge.sources.feed.interval = 30\npulse.bridge.sources.feed.id_field = guid\npulse.bridge.sources.feed.reverse = true\n"
      b"pulse.bridge.sources.hg.type = hg_pushlog\npulse.bridge.sources.hg.url = https://hg.mozilla.org/mozilla-central\n"
      b"pulse.bridge.sources.hg.full = true\npulse.bridge.sources.gh.type = github\npulse.bridge.sources.gh.secret_env = FUZZ_SECRET\n")
