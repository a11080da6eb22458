"""A real SMTP server for the mail tests: aiosmtpd on 127.0.0.1, a free port, its
own thread and event loop, capturing every message it accepts.

    with serving_smtp() as smtp:                  # plain, no login
    with serving_smtp(tls=True, login=("u", "p")) as smtp:   # STARTTLS, then AUTH
        smtp.refuse("gone@example.com", "550 5.1.1 no such user")
        ... smtp.received (Received: envelope and parsed message), smtp.client_tls()

With `tls`, the server offers STARTTLS with a certificate for 127.0.0.1 made here
and refuses AUTH before it (aiosmtpd's auth_require_tls), so a login can only
succeed over TLS; `client_tls()` is a context that trusts that certificate.
"""

from __future__ import annotations

import socket
import ssl
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    tls: bool  # whether the session had been upgraded when the message came
    login: str | None

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert isinstance(body, EmailMessage)
        return str(body.get_content()).replace("\r\n", "\n")  # CRLF is SMTP's line end


class SmtpServer:
    def __init__(self, *, tls: bool, login: tuple[str, str] | None, folder: Path) -> None:
        self.received: list[Received] = []
        self._refusals: dict[str, str] = {}
        self._lock = threading.Lock()
        self._login = login
        self._certificate_pem = b""
        kwargs: dict[str, Any] = {}
        if tls:
            kwargs["tls_context"] = self._server_tls(folder)
            kwargs["require_starttls"] = True
        if login is not None:
            kwargs["authenticator"] = self._authenticate
            kwargs["auth_required"] = True
            kwargs["auth_require_tls"] = tls
        self.port = _free_port()
        self._controller = Controller(
            self, hostname="127.0.0.1", port=self.port, ready_timeout=10, **kwargs
        )

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def refuse(self, address: str, reply: str) -> None:
        """Answer RCPT TO:<address> with `reply` (e.g. "550 ..." or "451 ...")."""
        with self._lock:
            self._refusals[address] = reply

    def client_tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cadata=self._certificate_pem.decode("ascii"))

    # aiosmtpd's handler hooks
    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        with self._lock:
            refusal = self._refusals.get(address)
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = message_from_bytes(content, policy=default)
        assert isinstance(message, EmailMessage)
        auth = session.auth_data
        login = auth.login.decode() if isinstance(auth, LoginPassword) else None
        received = Received(
            str(envelope.mail_from),
            list(envelope.rcpt_tos),
            message,
            session.ssl is not None,
            login,
        )
        with self._lock:
            self.received.append(received)
        return "250 Message accepted for delivery"

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and self._login is not None
        ok = ok and (data.login.decode(), data.password.decode()) == self._login
        # handled=False: the server itself answers a failure (535).
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

    def _server_tls(self, folder: Path) -> ssl.SSLContext:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        self._certificate_pem = certificate.public_bytes(serialization.Encoding.PEM)
        cert_file, key_file = folder / "smtp.crt", folder / "smtp.key"
        cert_file.write_bytes(self._certificate_pem)
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        return context


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving_smtp(
    *, tls: bool = False, login: tuple[str, str] | None = None
) -> Iterator[SmtpServer]:
    with tempfile.TemporaryDirectory() as folder:
        server = SmtpServer(tls=tls, login=login, folder=Path(folder))
        server.start()
        try:
            yield server
        finally:
            server.stop()
