"""SMTP, through aiosmtplib: one connection per message, a few at a time.

    SmtpMail("smtp.example.com", 587, sender="Photo Timeline <no-reply@example.com>",
             user="...", password="...", starttls=True)

With `starttls` the session is upgraded before anything else is said (aiosmtplib
refuses to go on in clear when the server offers no STARTTLS), so the login and
the addresses travel encrypted; without it, only a relay on the same machine
should be reached (settings refuse anything else in production).

How replies map to `MailResult` (RFC 5321, section 4.2.1):

    250 to the message                      sent
    4yz to anything, no connection, timeout retry
    5yz to anything (a refused address,     rejected
    bad credentials, a refused message)
"""

from __future__ import annotations

import asyncio
import ssl

import aiosmtplib

from mail.mime import mime_message
from mail.port import SENT, MailMessage, MailResult

# Connections at once: mail servers limit them per client, and a digest run sends many.
MAX_CONNECTIONS = 4


class SmtpMail:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        user: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        tls_context: ssl.SSLContext | None = None,
        timeout_seconds: float = 30.0,
    ) -> None:
        self.host, self.port = host, port
        self._sender = sender
        self._user, self._password = user, password
        self._starttls = starttls
        self._tls_context = tls_context
        self._timeout = timeout_seconds
        self._slots = asyncio.Semaphore(MAX_CONNECTIONS)

    async def send(self, message: MailMessage) -> MailResult:
        mime = mime_message(self._sender, message)
        async with self._slots:
            try:
                await aiosmtplib.send(
                    mime,
                    hostname=self.host,
                    port=self.port,
                    username=self._user,
                    password=self._password,
                    start_tls=self._starttls,
                    tls_context=self._tls_context if self._starttls else None,
                    timeout=self._timeout,
                    local_hostname="photo-timeline",  # not socket.getfqdn(): no DNS lookup
                )
            except aiosmtplib.SMTPRecipientsRefused as refused:
                return _by_code(min(r.code for r in refused.recipients), str(refused))
            except aiosmtplib.SMTPResponseException as error:
                return _by_code(error.code, f"{error.code} {error.message}")
            except (aiosmtplib.SMTPException, OSError) as error:
                return MailResult("retry", detail=f"no answer from {self.host}: {error!r}")
        return SENT

    async def close(self) -> None:
        """Nothing is held between messages."""


def _by_code(code: int, detail: str) -> MailResult:
    return MailResult("rejected" if code >= 500 else "retry", detail=detail)
