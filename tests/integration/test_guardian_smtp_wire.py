"""The guardian's SMTP client on the wire (src/pulse/smtp, smtp_session/smtp_client): what it
sends and how it copes with servers that misbehave. Two kinds of server: aiosmtpd (Debian's
python3-aiosmtpd) where a real server's view matters (TLS, AUTH mechanisms, dot-stuffing undone),
and a tiny scripted server in this file for what aiosmtpd will not do (garbage, endless lines,
silence mid-way, bytes injected after STARTTLS, a reply echoing credentials). Each test looks at
what a user sees: the mail, or the error pulse-notify-probe reports, and how long it took."""
import base64
import socket
import threading
import time

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from harness.broker import HOST, built_tool, free_port
from harness.certs import certs
from harness.smtp_sink import Recorder, Server
from test_guardian_smtp import ADMINS, WARNING, admin_sets, run_probe, tls_context

USER, PASSWORD = "guardian", "s3cretpass"


class Conn:
    """One client connection of the scripted server: lines in, replies out, all recorded."""

    def __init__(self, sock):
        self.sock = sock
        self.sock.settimeout(30)
        self.buf = b""
        self.commands = []
        self.data = None

    def send(self, text):
        self.sock.sendall(text.encode() if isinstance(text, str) else text)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        self.commands.append(line.decode(errors="replace"))
        return self.commands[-1]

    def read_data(self):
        while b"\r\n.\r\n" not in self.buf and not self.buf.startswith(b".\r\n"):
            self._fill()
        end = self.buf.index(b".\r\n") if self.buf.startswith(b".\r\n") else \
            self.buf.index(b"\r\n.\r\n") + 2
        self.data, self.buf = self.buf[:end + 3], self.buf[end + 3:]

    def wait_closed(self):
        try:
            while True:
                self._fill()
        except (OSError, EOFError):
            pass

    def verbs(self):
        return [c.split(" ")[0].split(":")[0].upper() for c in self.commands]


def dialogue(c, greeting="220 scripted ESMTP\r\n", ehlo="250-scripted\r\n250 8BITMIME\r\n",
             replies=None):
    """A well-behaved server unless `replies` says otherwise: verb -> reply text, or a function
    (conn, command) -> reply text, None to fall silent (the connection stays open)."""
    replies = replies or {}
    defaults = {"EHLO": ehlo, "HELO": "250 scripted\r\n", "MAIL": "250 2.1.0 ok\r\n",
                "RCPT": "250 2.1.5 ok\r\n", "DATA": "354 go ahead\r\n",
                "END": "250 2.0.0 queued\r\n", "QUIT": "221 bye\r\n"}
    if greeting is None:
        return c.wait_closed()
    c.send(greeting)
    while True:
        cmd = c.line()
        verb = cmd.split(" ")[0].split(":")[0].upper()
        reply = replies.get(verb, defaults.get(verb, "502 5.5.2 not here\r\n"))
        if callable(reply):
            reply = reply(c, cmd)
        if reply is None:
            return c.wait_closed()
        c.send(reply)
        if verb == "DATA" and reply.startswith("354"):
            c.read_data()
            end = replies.get("END", defaults["END"])
            if end is None:
                return c.wait_closed()
            c.send(end)
        if verb == "QUIT":
            return


class Scripted:
    """A listener on a free port running `script(conn)` for each connection in a thread."""

    def __init__(self, script=dialogue, **kwargs):
        self.script = lambda c: script(c, **kwargs)
        self.listener = socket.socket()
        self.listener.bind((HOST, 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                s, _ = self.listener.accept()
            except OSError:
                return
            c = Conn(s)
            self.conns.append(c)
            threading.Thread(target=self._run, args=(c,), daemon=True).start()

    def _run(self, c):
        try:
            self.script(c)
        except (OSError, EOFError):
            pass
        finally:
            c.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.listener.close()
        for c in self.conns:
            try:
                c.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def probe_bin():
    return built_tool("PULSE_NOTIFY_PROBE_BIN", "pulse-notify-probe")


def send(port, sets=(), args=("--attempts", "1"), notices=(WARNING,), **kw):
    return run_probe(probe_bin(), port, list(notices), sets=admin_sets() + list(sets), args=args,
                     **kw)


def failed_with(r, text):
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.result["sent"] == 0 and r.result["failed"] >= 1, r.result
    assert text in r.result["last_error"], r.result
    return r.result["last_error"]


def test_helo_fallback_multiline_greeting_and_crlf_data():
    operator = dict(WARNING, event="operator", operator_name="ops",
                    message="first\n.\n.hidden line\nlast")
    greeting = "220-scripted\r\n220-says hello\r\n220 on three lines\r\n"
    with Scripted(greeting=greeting, replies={"EHLO": "502 5.5.2 no EHLO here\r\n"}) as srv:
        r = send(srv.port, notices=[operator])
        assert r.returncode == 0, r.stdout + r.stderr
        [c] = srv.conns
    assert c.verbs() == ["EHLO", "HELO", "MAIL", "RCPT", "RCPT", "DATA", "QUIT"], c.commands
    name = c.commands[0].split(" ", 1)[1]
    assert c.commands[1] == "HELO " + name
    assert name == "[127.0.0.1]" or ("." in name and "[" not in name), name
    assert c.commands[2] == "MAIL FROM:<pulse@guardian.example>"
    assert c.commands[3:5] == ["RCPT TO:<%s>" % a for a in ADMINS]
    # CRLF everywhere and dot-stuffed: a line "." must not end the mail early.
    assert b"\n" not in c.data.replace(b"\r\n", b"")
    assert b"\r\n..\r\n..hidden line\r\nlast\r\n" in c.data
    assert c.data.endswith(b"\r\n.\r\n")


def test_dot_stuffing_is_undone_by_a_real_server():
    operator = dict(WARNING, event="operator", operator_name="ops",
                    message=".\n..two dots\n.hidden\nend.")
    with Server() as srv:
        r = send(srv.port, notices=[operator])
        assert r.returncode == 0, r.stdout + r.stderr
        [m] = srv.handler.mails
    assert "\r\n.\r\n..two dots\r\n.hidden\r\nend.\r\n" in m["msg"].get_content()


def test_starttls_not_offered_sends_nothing():
    ehlo = "250-scripted\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"
    with Scripted(ehlo=ehlo) as srv:
        r = send(srv.port, sets=["pulse.smtp.tls=starttls", "pulse.smtp.username=" + USER,
                                 "pulse.smtp.password=" + PASSWORD])
        [c] = srv.conns
    err = failed_with(r, "the server does not offer STARTTLS")
    assert "server said: 250 scripted AUTH PLAIN LOGIN 8BITMIME" in err
    assert c.verbs() == ["EHLO", "QUIT"], c.commands  # no AUTH, no MAIL: nothing in clear


def test_bytes_after_the_starttls_reply_are_refused():
    ehlo = "250-scripted\r\n250 STARTTLS\r\n"
    injected = "220 go ahead\r\n250-scripted\r\n250 AUTH PLAIN\r\n"
    with Scripted(ehlo=ehlo, replies={"STARTTLS": injected}) as srv:
        r = send(srv.port, sets=["pulse.smtp.tls=starttls", "pulse.smtp.cacertfile=" + certs().ca])
        [c] = srv.conns
    failed_with(r, "the server sent more than its reply to STARTTLS")
    assert c.verbs() == ["EHLO", "STARTTLS"], c.commands


@pytest.mark.parametrize("greeting,error", [
    ("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
     "malformed reply from the server (not SMTP?): 'HTTP/1.1 400 Bad Request'"),
    ("220 " + "x" * (1 << 20), "a reply line from the server is longer than 4096 bytes"),
    ("220-x\r\n" * 100000, "a reply from the server has more than 256 lines"),
    ("220-ready\r\n550 changed my mind\r\n", "a multi-line reply changed its code (220 then 550)"),
], ids=["http", "endless-line", "endless-reply", "code-change"])
def test_garbage_and_oversized_replies_fail_clearly_and_fast(greeting, error):
    with Scripted(greeting=greeting) as srv:
        r = send(srv.port)
    failed_with(r, error)
    assert r.elapsed < 10, r.elapsed  # an error at once, not pulse.smtp.timeout's 30 s


@pytest.mark.parametrize("silent_at,waiting_for", [
    ("EHLO", "waiting for the reply to EHLO"),
    ("RCPT", "waiting for the reply to RCPT TO"),
    ("END", "waiting for the reply to the mail"),
])
def test_a_server_falling_silent_is_bounded_by_the_timeout(silent_at, waiting_for):
    with Scripted(replies={silent_at: None}) as srv:
        started = time.monotonic()
        r = send(srv.port, sets=["pulse.smtp.timeout=2"], timeout=30)
        took = time.monotonic() - started
    failed_with(r, "timed out (pulse.smtp.timeout = 2 s) " + waiting_for)
    assert 1.5 < took < 8, took


def test_a_server_silent_in_the_tls_handshake_is_bounded_by_the_timeout():
    with Scripted(greeting=None) as srv:  # reads the ClientHello, never answers
        r = send(srv.port, sets=["pulse.smtp.tls=tls", "pulse.smtp.timeout=2"], timeout=30)
    failed_with(r, "timed out (pulse.smtp.timeout = 2 s) in the TLS handshake")
    assert r.elapsed < 8, r.elapsed


def test_a_server_closing_mid_way_is_reported():
    def close(c, cmd):
        c.sock.shutdown(socket.SHUT_RDWR)
        return None
    with Scripted(replies={"MAIL": close}) as srv:
        r = send(srv.port)
    failed_with(r, "the server closed the connection (waiting for the reply to MAIL FROM); "
                   "server said: 250 scripted 8BITMIME")


def test_credentials_never_show_in_errors_or_logs():
    plain = base64.b64encode(b"\0" + USER.encode() + b"\0" + PASSWORD.encode()).decode()

    def echo(c, cmd):
        arg = cmd.split(" ")[-1]
        decoded = base64.b64decode(arg).replace(b"\0", b"|").decode()
        return "535-5.7.8 bad credentials %s\r\n535 5.7.8 (%s)\r\n" % (arg, decoded)
    ehlo = "250-scripted\r\n250 AUTH LOGIN PLAIN\r\n"
    with Scripted(ehlo=ehlo, replies={"AUTH": echo}) as srv:
        r = send(srv.port, sets=["pulse.smtp.tls=none", "pulse.smtp.username=" + USER,
                                 "pulse.smtp.password=" + PASSWORD])
        [c] = srv.conns
    assert c.commands[1] == "AUTH PLAIN " + plain  # PLAIN preferred, one round trip
    assert c.verbs() == ["EHLO", "AUTH", "QUIT"], c.commands
    err = failed_with(r, "login denied (AUTH PLAIN); server said: 535 5.7.8 bad credentials *** "
                         "5.7.8 (|guardian|***)")
    assert r.result["failed"] == 1  # a 5xx: not retried
    for secret in (plain, PASSWORD, base64.b64encode(PASSWORD.encode()).decode()):
        assert secret not in r.stdout + r.stderr, secret
    assert err in r.stderr


def test_all_recipients_refused_with_4xx_is_retried():
    with Scripted(replies={"RCPT": "450 4.2.0 mailbox busy\r\n"}) as srv:
        r = send(srv.port, args=["--attempts", "2"])
    err = failed_with(r, "every recipient was refused; refused <%s>: 450 4.2.0 mailbox busy; "
                         "refused <%s>: 450 4.2.0 mailbox busy" % tuple(ADMINS))
    assert "server said" not in err
    assert [c.verbs() for c in srv.conns] == [["EHLO", "MAIL", "RCPT", "RCPT", "QUIT"]] * 2


def recording_authenticator(seen):
    def authenticate(server, session, envelope, mechanism, auth_data):
        seen.append(mechanism)
        ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
        return AuthResult(success=ok, handled=False)
    return authenticate


@pytest.mark.parametrize("exclude,used", [([], "PLAIN"), (["PLAIN"], "LOGIN")])
def test_auth_plain_preferred_login_when_plain_is_not_offered(exclude, used):
    c = certs()
    seen = []
    with Server(tls_context=tls_context(c.server_cert, c.server_key), require_starttls=True,
                authenticator=recording_authenticator(seen), auth_required=True,
                auth_exclude_mechanism=exclude) as srv:
        r = send(srv.port, sets=["pulse.smtp.cacertfile=" + c.ca, "pulse.smtp.username=" + USER,
                                 "pulse.smtp.password=" + PASSWORD])
        assert r.returncode == 0, r.stdout + r.stderr
        [m] = srv.handler.mails
    assert seen == [used]
    assert m["tls"] and m["rcpt_tos"] == ADMINS


class TlsServer:
    """aiosmtpd with implicit TLS on `host`, recording the SNI names of the handshakes."""

    def __init__(self, host=HOST, cert=None, key=None):
        c = certs()
        self.names = []
        ctx = tls_context(cert or c.server_cert, key or c.server_key)
        ctx.sni_callback = lambda sslobj, name, context: self.names.append(name)
        self.handler = Recorder()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname=host, port=self.port,
                                     ssl_context=ctx)

    def __enter__(self):
        self.controller.start()
        self.names.clear()  # the controller's own readiness check
        return self

    def __exit__(self, *exc):
        self.controller.stop()


@pytest.mark.parametrize("host,sni", [("localhost", "localhost"), (HOST, None)])
def test_sni_carries_host_names_only(host, sni):
    with TlsServer() as srv:
        r = send(srv.port, sets=["pulse.smtp.host=" + host, "pulse.smtp.tls=tls",
                                 "pulse.smtp.cacertfile=" + certs().ca])
        assert r.returncode == 0, r.stdout + r.stderr
        assert len(srv.handler.mails) == 1
    assert srv.names == [sni]


def test_a_certificate_for_another_host_is_refused():
    # 127.0.0.2 is this machine too, but the test certificate names only localhost and 127.0.0.1.
    with TlsServer(host="127.0.0.2") as srv:
        r = send(srv.port, sets=["pulse.smtp.host=127.0.0.2", "pulse.smtp.tls=tls",
                                 "pulse.smtp.cacertfile=" + certs().ca])
        assert srv.handler.mails == []
    failed_with(r, "TLS handshake failed: certificate verify failed: IP address mismatch (the "
                   "server's certificate is not valid for '127.0.0.2')")


def test_verify_none_accepts_an_untrusted_certificate():
    c = certs()
    with TlsServer(cert=c.other_cert, key=c.other_key) as srv:
        r = send(srv.port, sets=["pulse.smtp.tls=tls", "pulse.smtp.verify=verify_none"])
        assert r.returncode == 0, r.stdout + r.stderr
        assert len(srv.handler.mails) == 1


def test_implicit_tls_against_a_plain_server_fails_clearly():
    with Scripted() as srv:
        r = send(srv.port, sets=["pulse.smtp.tls=tls"])
    failed_with(r, "smtps://%s:%d: TLS handshake failed: the server does not speak TLS there"
                % (HOST, srv.port))


class MailOptions(Recorder):
    async def handle_DATA(self, server, session, envelope):
        self.mail_options = list(envelope.mail_options)
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.parametrize("queue,options", [("queue/alice/caf\u00e9", ["BODY=8BITMIME"]),
                                           ("queue/alice/cafe", [])])
def test_8bit_bodies_are_declared(queue, options):
    with Server(MailOptions()) as srv:
        r = send(srv.port, notices=[dict(WARNING, queue=queue)])
        assert r.returncode == 0, r.stdout + r.stderr
        assert srv.handler.mail_options == options
        [m] = srv.handler.mails
    assert queue in m["msg"].get_content()
