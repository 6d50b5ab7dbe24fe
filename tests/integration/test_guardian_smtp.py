"""The guardian's notices by email (src/pulse/smtp), against a real SMTP server: aiosmtpd
(Debian's python3-aiosmtpd) on a free port, recording what it receives. pulsed's guardian
runner lands separately, so the mails are sent through the test driver pulse-notify-probe,
which feeds notices (JSON lines) to the same SmtpNoticeSink pulsed and pulse-guardian use.

Checked as an owner or admin would see it: PulseGuardian's subjects, To = owner + admins, a body
naming the queue, owner, size, growth rate, consumers and bindings with their exchanges; STARTTLS
with a test CA and AUTH; implicit TLS; failures (nothing listening, a silent server, a 550, bad
credentials, an untrusted certificate) reported clearly and bounded by pulse.smtp.timeout."""
import email
import email.policy
import email.utils
import json
import socket
import ssl
import subprocess
import time

import pytest
from aiosmtpd.smtp import AuthResult

from harness.broker import HOST, built_tool, free_port
from harness.smtp_sink import Recorder, Server
from harness.certs import certs

FROM = "pulse@guardian.example"
ADMINS = ["root@example.org", "ops@example.org"]
ALICE = "alice.smith@example.com"

WARNING = {
    "event": "warning", "vhost": "/", "owner": "alice", "queue": "queue/alice/builds",
    "messages": 2500, "messages_ready": 2400, "messages_unacknowledged": 100,
    "growth_rate": 12.5, "consumers": 1,
    "bindings": [{"exchange": "exchange/build/", "routing_key": "#.finished"},
                 {"exchange": "exchange/taskcluster-queue/v1/task-completed",
                  "routing_key": "route.index.#"}],
    "warn_queue_size": 2000, "delete_queue_size": 8000,
}


@pytest.fixture(scope="module")
def probe():
    return built_tool("PULSE_NOTIFY_PROBE_BIN", "pulse-notify-probe")


def run_probe(binary, port, notices, sets=(), args=(), timeout=60):
    cmd = [binary, "--set", "pulse.smtp.host=" + HOST, "--set", "pulse.smtp.port=%d" % port,
           "--set", "pulse.smtp.from=" + FROM, "--retry-delay-ms", "100"]
    for s in sets:
        cmd += ["--set", s]
    cmd += list(args)
    started = time.monotonic()
    r = subprocess.run(cmd, input="".join(json.dumps(n) + "\n" for n in notices),
                       capture_output=True, text=True, timeout=timeout)
    r.elapsed = time.monotonic() - started
    r.result = json.loads(r.stdout.strip().splitlines()[-1]) if r.stdout.strip() else None
    return r


def admin_sets():
    return ["pulse.smtp.admins.%d=%s" % (i + 1, a) for i, a in enumerate(ADMINS)]


def body_of(msg):
    return msg.get_content()


def test_notice_mails_name_everything_and_reach_owner_and_admins(probe):
    deleted = dict(WARNING, event="deleted", messages=8100, messages_ready=8100,
                   messages_unacknowledged=0, growth_rate=-3.0, consumers=0)
    back = dict(WARNING, event="back_to_normal", messages=10, messages_ready=10,
                messages_unacknowledged=0)
    bob = dict(WARNING, owner="bob", queue="queue/bob/q")
    no_owner = dict(WARNING, owner=None, queue="legacy-queue", bindings=[])
    with Server() as srv:
        r = run_probe(probe, srv.port, [WARNING, deleted, back, bob, no_owner],
                      sets=admin_sets() + ["pulse.smtp.owner_domain=mozilla.example"],
                      args=["--owner-email", "alice=" + ALICE])
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.result["sent"] == 5 and r.result["failed"] == 0
        mails = srv.handler.mails
    assert len(mails) == 5
    by_subject = {m["msg"]["Subject"]: m for m in mails}
    assert set(by_subject) == {
        'Pulse warning: queue "queue/alice/builds" is overgrowing',
        'Pulse warning: queue "queue/alice/builds" has been deleted',
        'Pulse warning: queue "queue/alice/builds" is back to normal',
        'Pulse warning: queue "queue/bob/q" is overgrowing',
        'Pulse warning: queue "legacy-queue" is overgrowing',
    }

    m = by_subject['Pulse warning: queue "queue/alice/builds" is overgrowing']
    msg = m["msg"]
    assert m["mail_from"] == FROM
    assert m["rcpt_tos"] == [ALICE] + ADMINS
    assert [a for _, a in email.utils.getaddresses([str(msg["To"])])] == [ALICE] + ADMINS
    assert msg["From"] == FROM
    assert email.utils.parsedate_to_datetime(msg["Date"]).timestamp() == pytest.approx(
        time.time(), abs=120)
    assert msg["Message-ID"].startswith("<") and msg["Message-ID"].endswith("@guardian.example>")
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content_charset() == "utf-8"
    assert msg["X-Pulse-Notice"] == "warning.alice"
    body = body_of(msg)
    assert 'Your queue "queue/alice/builds" is overgrowing' in body
    assert "Queue:      queue/alice/builds" in body
    assert "Owner:      alice" in body
    assert "Messages:   2500 (2400 ready, 100 unacknowledged)" in body
    assert "Growth:     +12.5 messages/s" in body
    assert "Consumers:  1" in body
    assert 'exchange "exchange/build/", routing key "#.finished"' in body
    assert ('exchange "exchange/taskcluster-queue/v1/task-completed", routing key '
            '"route.index.#"') in body

    deleted_body = body_of(
        by_subject['Pulse warning: queue "queue/alice/builds" has been deleted']["msg"])
    assert "Messages:   8100" in deleted_body and "Consumers:  0" in deleted_body
    assert "Growth:     -3.0 messages/s" in deleted_body

    # No known address for bob: the owner_domain fallback; no owner at all: admins only.
    assert by_subject['Pulse warning: queue "queue/bob/q" is overgrowing']["rcpt_tos"] == \
        ["bob@mozilla.example"] + ADMINS
    assert by_subject['Pulse warning: queue "legacy-queue" is overgrowing']["rcpt_tos"] == ADMINS


def test_without_owner_domain_unknown_owners_get_no_mail(probe):
    bob = dict(WARNING, owner="bob", queue="queue/bob/q")
    with Server() as srv:
        r = run_probe(probe, srv.port, [bob], sets=["pulse.smtp.admins.1=" + ADMINS[0]])
        assert r.returncode == 0, r.stdout + r.stderr
        assert [m["rcpt_tos"] for m in srv.handler.mails] == [[ADMINS[0]]]
        # Nobody to mail at all: nothing is sent, and that is no failure.
        r = run_probe(probe, srv.port, [bob])
        assert r.returncode == 0 and r.result["no_recipient"] == 1, r.stdout + r.stderr
        assert len(srv.handler.mails) == 1


def tls_context(cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"guardian" and auth_data.password == b"s3cret"
    return AuthResult(success=ok, handled=False)


def starttls_server(cert=None, key=None):
    c = certs()
    return Server(tls_context=tls_context(cert or c.server_cert, key or c.server_key),
                  require_starttls=True, authenticator=authenticator, auth_required=True)


def test_starttls_with_test_ca_and_auth(probe):
    with starttls_server() as srv:
        r = run_probe(probe, srv.port, [WARNING],
                      sets=admin_sets() + ["pulse.smtp.tls=starttls",
                                           "pulse.smtp.cacertfile=" + certs().ca,
                                           "pulse.smtp.username=guardian",
                                           "pulse.smtp.password=s3cret"])
        assert r.returncode == 0, r.stdout + r.stderr
        [m] = srv.handler.mails
    assert m["tls"], "the mail went in clear"
    assert m["msg"]["Subject"] == 'Pulse warning: queue "queue/alice/builds" is overgrowing'
    assert m["rcpt_tos"] == ADMINS


def test_starttls_wrong_password_is_reported(probe):
    with starttls_server() as srv:
        r = run_probe(probe, srv.port, [WARNING],
                      sets=admin_sets() + ["pulse.smtp.cacertfile=" + certs().ca,
                                           "pulse.smtp.username=guardian",
                                           "pulse.smtp.password=wrong"])
        assert srv.handler.mails == []
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.result["failed"] == 1 and r.result["sent"] == 0
    assert "login denied" in r.result["last_error"], r.result
    assert "535" in r.result["last_error"], r.result
    assert "cannot send guardian notice mail" in r.stderr and "535" in r.stderr


def test_starttls_untrusted_certificate_is_refused(probe):
    c = certs()
    with starttls_server(c.other_cert, c.other_key) as srv:
        r = run_probe(probe, srv.port, [WARNING],
                      sets=admin_sets() + ["pulse.smtp.cacertfile=" + c.ca,
                                           "pulse.smtp.username=guardian",
                                           "pulse.smtp.password=s3cret"],
                      args=["--attempts", "1"])
        assert srv.handler.mails == []
    assert r.returncode == 1, r.stdout + r.stderr
    assert "certificate" in r.result["last_error"].lower(), r.result


def test_implicit_tls(probe):
    c = certs()
    with Server(ssl_context=tls_context(c.server_cert, c.server_key)) as srv:
        r = run_probe(probe, srv.port, [WARNING],
                      sets=admin_sets() + ["pulse.smtp.tls=tls", "pulse.smtp.cacertfile=" + c.ca])
        assert r.returncode == 0, r.stdout + r.stderr
        [m] = srv.handler.mails
    assert m["tls"], "the mail went in clear"
    assert m["msg"]["Subject"] == 'Pulse warning: queue "queue/alice/builds" is overgrowing'


def test_nothing_listening_is_reported_once_per_streak(probe):
    port = free_port()  # nothing listens there
    r = run_probe(probe, port, [WARNING, WARNING, WARNING], sets=admin_sets(),
                  args=["--attempts", "2"])
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.result["failed"] == 3 and r.result["sent"] == 0
    assert "smtp://%s:%d" % (HOST, port) in r.result["last_error"]
    assert "cannot connect: Connection refused" in r.result["last_error"], r.result
    # An outage is logged at its start, not once per mail.
    assert r.stderr.count("cannot send guardian notice mail") == 1, r.stderr
    assert r.elapsed < 20


def test_silent_server_is_bounded_by_the_timeout(probe):
    with socket.socket() as listener:  # accepts (in the kernel) and never says a word
        listener.bind((HOST, 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        r = run_probe(probe, port, [WARNING], sets=admin_sets() + ["pulse.smtp.timeout=1"],
                      args=["--attempts", "1"], timeout=30)
    assert r.returncode == 1, r.stdout + r.stderr
    assert ("timed out (pulse.smtp.timeout = 1 s) waiting for the server's greeting"
            in r.result["last_error"]), r.result
    assert r.elapsed < 10, r.elapsed


def test_550_is_reported_and_not_retried(probe):
    refuse = {"*": "550 5.1.1 <%s>: Recipient address rejected" % ADMINS[0]}
    with Server(Recorder(refuse=refuse)) as srv:
        r = run_probe(probe, srv.port, [WARNING], sets=["pulse.smtp.admins.1=" + ADMINS[0]],
                      args=["--attempts", "3"])
        assert srv.handler.mails == []
        assert srv.handler.rcpt_commands == 1  # a permanent refusal: no second attempt
    assert r.returncode == 1, r.stdout + r.stderr
    assert "550 5.1.1" in r.result["last_error"], r.result
    assert "Recipient address rejected" in r.stderr


def test_one_refused_recipient_does_not_cost_the_others_their_mail(probe):
    refuse = {ALICE: "550 5.1.1 no such user"}
    with Server(Recorder(refuse=refuse)) as srv:
        r = run_probe(probe, srv.port, [WARNING], sets=admin_sets(),
                      args=["--owner-email", "alice=" + ALICE])
        assert r.returncode == 0, r.stdout + r.stderr
        [m] = srv.handler.mails
    assert m["rcpt_tos"] == ADMINS
    assert [a for _, a in email.utils.getaddresses([str(m["msg"]["To"])])] == [ALICE] + ADMINS
    assert r.result["refused_recipients"] == 1
    assert "<%s>: 550 5.1.1 no such user" % ALICE in r.stderr


@pytest.mark.parametrize("setting,error", [
    ("pulse.smtp.from=pulse@example.org\rBcc: x@example.org", "control characters"),
    ("pulse.smtp.hostname=x", "unknown setting 'pulse.smtp.hostname'"),
    ("pulse.smtp.tls=ssl", "must be none, starttls or tls"),
])
def test_bad_settings_are_refused(probe, setting, error):
    r = run_probe(probe, free_port(), [WARNING], sets=[setting])
    assert r.returncode == 2
    assert error in r.result["error"], r.result


class SlowRecorder(Recorder):
    async def handle_DATA(self, server, session, envelope):
        import asyncio
        await asyncio.sleep(1.0)  # far longer than queueing six notices takes
        return await super().handle_DATA(server, session, envelope)


def test_full_queue_drops_the_oldest_mails(probe):
    notices = [dict(WARNING, queue="queue/alice/q%d" % i) for i in range(6)]
    with Server(SlowRecorder()) as srv:
        r = run_probe(probe, srv.port, notices, sets=admin_sets(), args=["--capacity", "2"])
        subjects = [m["msg"]["Subject"] for m in srv.handler.mails]
    # send() never waits for the slow server: six notices into a queue of two (plus the one
    # being sent) push at least three out, and the newest are the ones kept.
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.result["dropped_overflow"] >= 3, r.result
    assert r.result["sent"] + r.result["dropped_overflow"] == 6, r.result
    assert len(subjects) == r.result["sent"]
    assert 'Pulse warning: queue "queue/alice/q5" is overgrowing' in subjects
    assert 'Pulse warning: queue "queue/alice/q4" is overgrowing' in subjects
    assert "dropping the oldest" in r.stderr


def test_shutdown_drains_then_gives_up_on_a_stuck_server(probe):
    # --wait 0: the sink is destroyed at once, as at pulsed's shutdown.
    with Server(SlowRecorder()) as srv:
        r = run_probe(probe, srv.port, [WARNING], sets=admin_sets(),
                      args=["--wait", "0", "--shutdown-drain-ms", "5000"])
        assert len(srv.handler.mails) == 1, r.stdout + r.stderr  # drained in time
    assert "not sent" not in r.stderr
    with socket.socket() as listener:  # never answers: the drain's limit ends the send
        listener.bind((HOST, 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        r = run_probe(probe, port, [WARNING, WARNING], sets=admin_sets(),
                      args=["--wait", "0", "--shutdown-drain-ms", "300"], timeout=30)
    assert r.elapsed < 5, r.elapsed  # not pulse.smtp.timeout's 30 s
    assert "shutting down with 2 guardian notice mail(s) not sent" in r.stderr, r.stderr
    assert "cannot send" not in r.stderr  # abandoning at shutdown is not an SMTP failure
