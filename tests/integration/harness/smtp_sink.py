"""A real SMTP server for the guardian's mail tests: aiosmtpd on a free port, keeping every
mail it accepts (Recorder), optionally refusing recipients."""
import email
import email.policy

from aiosmtpd.controller import Controller

from harness.broker import HOST, free_port


class Recorder:
    """aiosmtpd handler: keeps every mail; `refuse` maps recipients to a RCPT reply."""

    def __init__(self, refuse=None):
        self.mails = []
        self.rcpt_commands = 0
        self.refuse = refuse or {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_commands += 1
        if address in self.refuse or "*" in self.refuse:
            return self.refuse.get(address, self.refuse.get("*"))
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                       policy=email.policy.default)
        self.mails.append({"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                           "msg": msg, "tls": server.transport.get_extra_info("ssl_object") is not None,
                           "login": getattr(session, "login_data", None)})
        return "250 Message accepted"


class Server:
    def __init__(self, handler=None, **kwargs):
        self.handler = handler or Recorder()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname=HOST, port=self.port, **kwargs)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()
