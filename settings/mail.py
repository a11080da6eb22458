"""Where e-mail goes (mail/): nowhere, a local outbox, SMTP, or Mailgun's HTTP API.

Production refuses `outbox`, which keeps mail on one machine, as TIMELINE_PUSH
refuses it. Unset in production means `off`: no provider is implied by the
platform (push has FCM; mail has none), so a deploy that names none sends none
and says so at start-up, rather than failing to start.
"""

from __future__ import annotations

import email.utils
import ipaddress
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from settings.variables import Invalid, Kind, Reader, Section, Variable, choice, flag, text, whole

MailBackend = Literal["off", "outbox", "smtp", "mailgun"]
MAILGUN_BASE_URL = "https://api.mailgun.net"  # the EU region's: https://api.eu.mailgun.net
LOCAL_SENDER = "Photo Timeline <no-reply@localhost>"


@dataclass(frozen=True)
class MailSettings:
    """Where e-mail goes (mail/): nowhere, a local outbox, SMTP, or Mailgun's HTTP API."""

    backend: MailBackend = "outbox"
    sender: str = LOCAL_SENDER  # the From header
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = True
    mailgun_domain: str | None = None
    mailgun_api_key: str | None = field(default=None, repr=False)
    mailgun_base_url: str = MAILGUN_BASE_URL

    @property
    def sends(self) -> bool:
        """Whether mail leaves the machine (and so needs absolute links)."""
        return self.backend in ("smtp", "mailgun")


def address() -> Kind[str]:
    def parse(value: str) -> str:
        if not _is_address(value):
            raise Invalid("an address like 'Photo Timeline <no-reply@example.com>'")
        return value

    return Kind("e-mail address, with or without a name", parse)


MAIL = Variable(
    "MAIL",
    choice("off", "outbox", "smtp", "mailgun"),
    "where e-mail goes; outbox (python -m mail.outbox) is refused in production",
    default="outbox",
    production_default="off",
)
MAIL_FROM = Variable(
    "MAIL_FROM",
    address(),
    "the From header",
    shown_default=f"mailgun: no-reply@<domain>; else {LOCAL_SENDER}",
    required="TIMELINE_MAIL=smtp",
)
SMTP_HOST = Variable("SMTP_HOST", text(), "smtp: the server", required="TIMELINE_MAIL=smtp")
SMTP_PORT = Variable("SMTP_PORT", whole(1, 65535), "smtp: the server's port", default="587")
SMTP_USER = Variable("SMTP_USER", text(), "smtp: the user, with TIMELINE_SMTP_PASSWORD")
SMTP_PASSWORD = Variable("SMTP_PASSWORD", text(), "smtp: the password, with TIMELINE_SMTP_USER")
SMTP_STARTTLS = Variable(
    "SMTP_STARTTLS",
    flag(),
    "smtp: upgrade to TLS; in production only a relay on this machine may go without",
    default="1",
)
MAILGUN_DOMAIN = Variable(
    "MAILGUN_DOMAIN", text(), "mailgun: the sending domain", required="TIMELINE_MAIL=mailgun"
)
MAILGUN_API_KEY = Variable(
    "MAILGUN_API_KEY", text(), "mailgun: the API key", required="TIMELINE_MAIL=mailgun"
)
MAILGUN_BASE_URL_VARIABLE = Variable(
    "MAILGUN_BASE_URL",
    text(),
    "mailgun: the API (the EU region's: https://api.eu.mailgun.net); https in production",
    default=MAILGUN_BASE_URL,
)
SECTION = Section(
    "Mail",
    "E-mail digests: nowhere, a local outbox, SMTP or Mailgun.",
    (
        MAIL,
        MAIL_FROM,
        SMTP_HOST,
        SMTP_PORT,
        SMTP_USER,
        SMTP_PASSWORD,
        SMTP_STARTTLS,
        MAILGUN_DOMAIN,
        MAILGUN_API_KEY,
        MAILGUN_BASE_URL_VARIABLE,
    ),
)


def load_mail_settings(reader: Reader) -> MailSettings:
    backend = reader.value(MAIL)
    if reader.production and backend == "outbox":
        reader.refuse(
            f"{MAIL.env_name}=outbox only records e-mail on one machine; use smtp or mailgun"
        )
    domain = reader.optional(MAILGUN_DOMAIN)
    sender = reader.optional(MAIL_FROM) or (
        f"Photo Timeline <no-reply@{domain}>" if backend == "mailgun" and domain else None
    )
    if sender is None and backend == "smtp":
        reader.refuse(f"{MAIL.env_name}=smtp needs {MAIL_FROM.env_name} (the From address)")
    elif sender is not None and not _is_address(sender):  # made of the Mailgun domain
        reader.refuse(f"{MAILGUN_DOMAIN.env_name} must be a domain, not {domain!r}")
    host = reader.optional(SMTP_HOST)
    starttls = reader.value(SMTP_STARTTLS)
    user, password = reader.optional(SMTP_USER), reader.optional(SMTP_PASSWORD)
    if backend == "smtp":
        if host is None:
            reader.refuse(f"{MAIL.env_name}=smtp needs {SMTP_HOST.env_name}")
        if (user is None) != (password is None):
            reader.refuse(f"{SMTP_USER.env_name} and {SMTP_PASSWORD.env_name} go together")
        if reader.production and not starttls and host and not _is_loopback(host):
            reader.refuse(
                f"{SMTP_STARTTLS.env_name}=0 would send addresses (and the password) in clear "
                f"to {host}; only a relay on this machine may be reached without TLS"
            )
    api_key = reader.optional(MAILGUN_API_KEY)
    base_url = reader.value(MAILGUN_BASE_URL_VARIABLE).rstrip("/")
    if backend == "mailgun":
        if domain is None or api_key is None:
            reader.refuse(
                f"{MAIL.env_name}=mailgun needs {MAILGUN_DOMAIN.env_name} "
                f"and {MAILGUN_API_KEY.env_name}"
            )
        schemes = ("https",) if reader.production else ("http", "https")
        if urlsplit(base_url).scheme not in schemes:
            reader.refuse(
                f"{MAILGUN_BASE_URL_VARIABLE.env_name} must be an https URL, not {base_url!r}"
            )
    return MailSettings(
        backend=backend,  # type: ignore[arg-type]
        sender=sender or LOCAL_SENDER,
        smtp_host=host,
        smtp_port=reader.value(SMTP_PORT),
        smtp_user=user,
        smtp_password=password,
        smtp_starttls=starttls,
        mailgun_domain=domain,
        mailgun_api_key=api_key,
        mailgun_base_url=base_url,
    )


def _is_address(value: str) -> bool:
    if "\r" in value or "\n" in value:
        return False  # a header injection, not an address
    _, parsed = email.utils.parseaddr(value)
    local, _, domain = parsed.rpartition("@")
    return bool(local) and bool(domain)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
