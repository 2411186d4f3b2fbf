"""aiosmtpd servers on 127.0.0.1 for the protocol tests.

- the main server offers AUTH PLAIN and LOGIN (without TLS; loopback only) for the test user,
  but does not require it;
- the "auth" server requires authentication before MAIL;
- the "helo" server refuses EHLO (502), so a client must fall back to HELO.

Each accepted message is stored in the spool directory as NNNN.eml (the DATA bytes exactly
as received after the server removed the dot-stuffing) and NNNN.json (the envelope:
mail_from, rcpt_tos, the authenticated user or null, the HELO/EHLO name, the server name).
"""

import json
import logging
import os
import socket
import threading
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

USER = "sockit"
PASSWORD = "s3cret"


def _authenticator(server, session, envelope, mechanism, auth_data):
    if not isinstance(auth_data, LoginPassword):
        return AuthResult(success=False, handled=False)
    ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    # handled=False: aiosmtpd itself answers 535 to a failure
    return AuthResult(
        success=ok, handled=False, auth_data=auth_data.login.decode() if ok else None
    )


class _SpoolHandler:
    def __init__(self, spool, name):
        self.spool = spool
        self.name = name
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            n = len([f for f in os.listdir(self.spool) if f.endswith(".json")]) + 1
            base = os.path.join(self.spool, "%04d" % n)
            with open(base + ".eml", "wb") as f:
                f.write(envelope.original_content or b"")
            meta = {
                "server": self.name,
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "auth_user": session.auth_data if session.authenticated else None,
                "helo": session.host_name,
            }
            # Written last and renamed into place: a test that sees NNNN.json sees the message.
            with open(base + ".json.tmp", "w") as f:
                json.dump(meta, f)
            os.rename(base + ".json.tmp", base + ".json")
        return "250 Message accepted for delivery"


class _NoEhloSMTP(SMTP):
    async def smtp_EHLO(self, hostname):
        await self.push("502 5.5.1 EHLO not implemented")


class _BoundController(Controller):
    """A Controller serving on a socket bound beforehand to an ephemeral port."""

    def __init__(self, handler, smtp_class=SMTP, **kwargs):
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._smtp_class = smtp_class
        super().__init__(
            handler, hostname="127.0.0.1", port=self._sock.getsockname()[1], **kwargs
        )

    def _create_server(self):
        return self.loop.create_server(
            self._factory_invoker, sock=self._sock, ssl=self.ssl_context
        )

    def factory(self):
        return self._smtp_class(self.handler, **self.SMTP_kwargs)


class SmtpServers:
    def __init__(self, spool):
        # AUTH without TLS is what the tests need on loopback; silence the warnings.
        warnings.simplefilter("ignore", UserWarning)
        logging.getLogger("mail.log").setLevel(logging.ERROR)
        self.spool = spool
        common = dict(
            authenticator=_authenticator,
            auth_require_tls=False,
            server_hostname="sockit.test",
            data_size_limit=64 * 1024 * 1024,
        )
        self.main = _BoundController(_SpoolHandler(spool, "main"), **common)
        self.auth = _BoundController(
            _SpoolHandler(spool, "auth"), auth_required=True, **common
        )
        self.helo = _BoundController(
            _SpoolHandler(spool, "helo"), smtp_class=_NoEhloSMTP, **common
        )
        self.controllers = [self.main, self.auth, self.helo]

    def start(self):
        for c in self.controllers:
            c.start()

    def stop(self):
        for c in self.controllers:
            try:
                c.stop()
            except Exception:
                pass
