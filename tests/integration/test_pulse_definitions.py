"""Pulse's state in definitions and live guardian settings (issue 14): GET /api/definitions
carries a "pulse" section (owners, Pulse users, claims, the guardian's API layer) only when
there is Pulse state; POST /api/definitions of that export into a fresh pulsed (another data
directory) gives working owner logins, Pulse users that connect with pika, the claims and the
guardian override; a damaged section is refused with 400 before anything is applied; RabbitMQ
imports a pulsed export (it ignores the unknown key). SIGHUP re-reads pulse.guardian.* and
pulse.smtp.* and applies them live; a bad file keeps the running settings and the log says
why."""
import datetime
import json
import os
import signal

import pytest

from harness import smtp_sink
from harness.broker import HOST, PulsedBroker, RabbitBroker, free_port
from harness.http_api import HttpApi, q
from harness.util import wait_for

P = "/api/pulse"


def guardian_config(port, warn=5, delete=10, enabled=True):
    return {"pulse.accounts.connection_url": "amqp://127.0.0.1:%d" % port,
            "pulse.guardian.enabled": enabled, "pulse.guardian.interval": 1,
            "pulse.guardian.warn_queue_size": warn, "pulse.guardian.delete_queue_size": delete}


def start_pulsed(config=None, **guardian):
    """pulsed with `config`, or with guardian_config(its port, **guardian)."""
    b = PulsedBroker()
    b.port = free_port()
    b.config = config if config is not None else guardian_config(b.port, **guardian)
    return b.start()


@pytest.fixture
def pulsed():
    b = start_pulsed()
    yield b
    b.stop()


def rfc3339(seconds_from_now):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds_from_now)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def log_text(b):
    with open(b.log_path, errors="replace") as f:
        return f.read()


def make_pulse_state(b):
    """An owner with a login, a Pulse user, a claim and guardian overrides; returns the claim's
    credentials."""
    admin = HttpApi(b)
    r = admin.put(P + "/owners/" + q("olga@example.com"),
                  {"password": "olgapw1", "display_name": "Olga"})
    assert r.status == 201, r
    owner = admin.as_user("olga@example.com", "olgapw1")
    assert owner.put(P + "/users/olga", {"password": "olgauser1", "description": "ci"}).status == 201
    r = admin.post(P + "/namespaces/tc", {"expires": rfc3339(3600), "contact": "ops@example.com"})
    assert r.status == 201, r
    assert admin.put(P + "/guardian", {"warn_queue_size": 3}).status == 200
    assert admin.put(P + "/guardian/owners/olga", {"delete_queue_size": 9}).status == 200
    assert admin.put(P + "/guardian/unbounded/%2F/" + q("queue/olga/keep")).status == 201
    return r.json


def test_bare_pulsed_export_has_no_pulse_section():
    b = start_pulsed(config={})
    try:
        r = HttpApi(b).get("/api/definitions")
        assert r.status == 200 and "pulse" not in r.json, r
    finally:
        b.stop()


def test_export_import_into_a_fresh_pulsed(pulsed):
    claim = make_pulse_state(pulsed)
    export = HttpApi(pulsed).get("/api/definitions").json
    section = export["pulse"]
    assert section["version"] == 1
    assert [o["email"] for o in section["owners"]] == ["olga@example.com"]
    assert section["owners"][0]["login"] is True
    assert [u["name"] for u in section["users"]] == ["olga"]
    assert section["users"][0]["owners"] == ["olga@example.com"]
    assert [c["namespace"] for c in section["claims"]] == ["tc"]
    assert section["claims"][0]["password"] == claim["password"]
    assert section["guardian"] == {
        "settings": {"warn_queue_size": 3, "owners": {"olga": {"delete_queue_size": 9}}},
        "unbounded": [{"vhost": "/", "queue": "queue/olga/keep"}]}
    # The per-vhost export is RabbitMQ's: no node-wide Pulse state.
    assert "pulse" not in HttpApi(pulsed).get("/api/definitions/%2F").json

    fresh = start_pulsed(warn=5, delete=10)
    try:
        admin = HttpApi(fresh)
        assert "pulse" not in admin.get("/api/definitions").json
        r = admin.post("/api/definitions", export)
        assert r.status in (200, 204), r
        # The owner signs in with the password it had.
        owner = admin.as_user("olga@example.com", "olgapw1")
        r = owner.get(P + "/whoami")
        assert r.status == 200 and r.json["owner"] is True and r.json["users"] == ["olga"], r
        # The Pulse user connects with its password and works in its namespace.
        conn = fresh.connect("olga", "olgauser1")
        ch = conn.channel()
        ch.queue_declare("queue/olga/q", durable=True)
        conn.close()
        assert [u["name"] for u in owner.get(P + "/users").json] == ["olga"]
        # The claim is listed, its credentials connect.
        claims = admin.get(P + "/namespaces").json
        assert [c["namespace"] for c in claims] == ["tc"]
        fresh.connect(claim["username"], claim["password"]).close()
        # The guardian override is in force over the fresh node's configuration.
        g = admin.get(P + "/guardian").json
        assert g["settings"]["warn_queue_size"] == 3, g
        assert g["overrides"]["warn_queue_size"] == 3, g
        assert admin.get(P + "/guardian/owners/olga").json["delete_queue_size"] == 9
        unbounded = admin.get(P + "/guardian/unbounded").json
        assert {(u["vhost"], u["queue"], u["set_by"]) for u in unbounded} == {
            ("/", "queue/olga/keep", "api")}
        # The imported state is the fresh node's own: a restart keeps it.
        fresh.restart(definitions=False)
        assert HttpApi(fresh).get("/api/definitions").json["pulse"] == section
    finally:
        fresh.stop()


@pytest.mark.parametrize("damage, reason", [
    (lambda s: s["owners"][0].update(created="yesterday"),
     "pulse.owners[0] ('olga@example.com'): 'created' must be an RFC 3339 time"),
    (lambda s: s["users"][0].pop("owners"), "pulse.users[0] ('olga'): 'owners' must be a list"),
    (lambda s: s["claims"][0].update(current=7), "pulse.claims[0] ('tc'): 'current' must be 0 or 1"),
    (lambda s: s["guardian"]["settings"].update(interval="5"),
     "pulse.guardian.settings: 'interval' must be a whole number"),
    (lambda s: s.update(version=2), "pulse.version 2 is not supported"),
    (lambda s: s.update(extra=1), "pulse: unknown field 'extra'"),
    # Valid in form, but it does not fit the running guardian (warn 3 over delete 2).
    (lambda s: s["guardian"]["settings"].update(delete_queue_size=2), "pulse.guardian:"),
])
def test_a_damaged_pulse_section_is_refused_and_nothing_changes(pulsed, damage, reason):
    make_pulse_state(pulsed)
    export = HttpApi(pulsed).get("/api/definitions").json
    damage(export["pulse"])
    export["queues"].append({"name": "from-the-import", "vhost": "/", "durable": True,
                             "auto_delete": False, "arguments": {}})
    fresh = start_pulsed()
    try:
        admin = HttpApi(fresh)
        before = admin.get("/api/definitions").json
        r = admin.post("/api/definitions", export)
        assert r.status == 400 and reason in r.json["reason"], r
        after = admin.get("/api/definitions").json
        assert after == before and "pulse" not in after
        assert admin.get("/api/queues/%2F/from-the-import").status == 404
        assert admin.get("/api/users/olga").status == 404
    finally:
        fresh.stop()


def test_boot_definitions_file_with_a_pulse_section(pulsed, tmp_path):
    make_pulse_state(pulsed)
    export = HttpApi(pulsed).get("/api/definitions").json
    path = tmp_path / "defs.json"
    path.write_text(json.dumps(export))
    fresh = PulsedBroker(definitions_path=str(path))
    fresh.port = free_port()
    fresh.config = guardian_config(fresh.port)
    fresh.start()
    try:
        admin = HttpApi(fresh)
        assert admin.get("/api/definitions").json["pulse"] == export["pulse"]
        fresh.connect("olga", "olgauser1").close()
    finally:
        fresh.stop()
    # A damaged section stops the start, naming the file and the entry.
    export["pulse"]["users"][0]["created"] = 5
    path.write_text(json.dumps(export))
    bad = PulsedBroker(definitions_path=str(path))
    bad.config = {}
    with pytest.raises(RuntimeError) as e:
        bad.start()
    assert "pulse.users[0] ('olga'): 'created' must be a string" in str(e.value)


def test_rabbitmq_imports_a_pulsed_export(pulsed, tmp_path):
    make_pulse_state(pulsed)
    export = HttpApi(pulsed).get("/api/definitions").json
    rabbit = RabbitBroker()
    rabbit.start()
    try:
        admin = HttpApi(rabbit)
        r = admin.post("/api/definitions", export)
        assert r.status in (200, 204), r
        users = {u["name"] for u in admin.get("/api/users").json}
        assert {"olga", "olga@example.com", "tc-1", "tc-2"} <= users
        rabbit.connect("olga", "olgauser1").close()
        path = tmp_path / "defs.json"
        path.write_text(json.dumps(export))
        rabbit.import_definitions(str(path))
    finally:
        rabbit.stop()


def hup(b, needle):
    before = log_text(b)
    os.kill(b.pid, signal.SIGHUP)
    wait_for(lambda: needle in log_text(b)[len(before):], timeout=10,
             msg="%r in the log after SIGHUP" % needle)
    assert b.proc.poll() is None
    return log_text(b)[len(before):]


def queue_warnings(admin, queue):
    return [n for n in admin.get(P + "/guardian/notices").json
            if n["queue"] == queue and n["event"] == "warning"]


def test_sighup_applies_guardian_settings_and_keeps_them_on_a_bad_file():
    b = start_pulsed(warn=50, delete=100)
    try:
        admin = HttpApi(b)
        conn = b.connect()
        ch = conn.channel()
        ch.confirm_delivery()
        ch.queue_declare("flooded")
        for _ in range(20):
            ch.basic_publish("", "flooded", b"x")
        assert admin.get(P + "/guardian").json["settings"]["warn_queue_size"] == 50

        b.write_config(guardian_config(b.port, warn=10, delete=100))
        after = hup(b, "SIGHUP: reloaded config")
        assert "applied: pulse.guardian.warn_queue_size;" in after, after
        assert admin.get(P + "/guardian").json["settings"]["warn_queue_size"] == 10
        wait_for(lambda: queue_warnings(admin, "flooded"), msg="a warning at the new threshold")
        assert queue_warnings(admin, "flooded")[0]["messages"] == 20

        # A value that does not parse: the file is refused, naming file, line and key.
        b.write_config(text=open(b.config_path).read().replace(
            "pulse.guardian.warn_queue_size = 10", "pulse.guardian.warn_queue_size = ten"))
        after = hup(b, "SIGHUP: config not reloaded")
        assert "pulsed.conf:" in after and "pulse.guardian.warn_queue_size" in after, after
        # Thresholds that contradict each other: refused as a whole.
        b.write_config(guardian_config(b.port, warn=200, delete=100))
        after = hup(b, "SIGHUP: config not reloaded")
        assert "warn_queue_size (200) must be below delete_queue_size (100)" in after, after
        # Settings that do not fit what the API set: the running ones stay.
        assert admin.put(P + "/guardian", {"delete_queue_size": 40}).status == 200
        b.write_config(guardian_config(b.port, warn=45, delete=100))
        after = hup(b, "not applied, the running settings stay")
        assert "pulse.guardian.warn_queue_size" in after, after
        s = admin.get(P + "/guardian").json["settings"]
        assert (s["warn_queue_size"], s["delete_queue_size"]) == (10, 40)
        # The API layer stays over the new configured values.
        b.write_config(guardian_config(b.port, warn=15, delete=100))
        hup(b, "SIGHUP: reloaded config")
        s = admin.get(P + "/guardian").json["settings"]
        assert (s["warn_queue_size"], s["delete_queue_size"]) == (15, 40)
        # Turned off and on again.
        b.write_config(guardian_config(b.port, warn=15, delete=100, enabled=False))
        hup(b, "SIGHUP: reloaded config")
        assert admin.get(P + "/guardian").status == 503
        b.write_config(guardian_config(b.port, warn=15, delete=100))
        hup(b, "SIGHUP: reloaded config")
        assert admin.get(P + "/guardian").json["settings"]["warn_queue_size"] == 15
        conn.close()
    finally:
        b.stop()


def test_sighup_sets_the_mail_target():
    b = start_pulsed(warn=5, delete=100)
    try:
        with smtp_sink.Server() as sink:
            config = dict(b.config)
            config.update({"pulse.smtp.host": HOST, "pulse.smtp.port": sink.port,
                           "pulse.smtp.from": "guardian@example.com",
                           "pulse.smtp.owner_domain": "owners.example"})
            b.write_config(config)
            after = hup(b, "SIGHUP: reloaded config")
            assert "pulse.smtp.host" in after and "guardian: mail to " + HOST in after, after
            conn = b.connect()
            ch = conn.channel()
            ch.confirm_delivery()
            ch.queue_declare("queue/mia/q")
            for _ in range(8):
                ch.basic_publish("", "queue/mia/q", b"x")
            conn.close()
            wait_for(lambda: sink.handler.mails, timeout=15, msg="the warning mail")
            mail = sink.handler.mails[0]
            assert mail["rcpt_tos"] == ["mia@owners.example"]
            assert "queue/mia/q" in mail["msg"]["Subject"]
    finally:
        b.stop()
