"""The e-mail part of the settings (TIMELINE_MAIL and its companions).

Read by `settings.load_settings`, which imports this module; the reverse import
happens only inside `load_mail_settings`, once settings.py has loaded.

    TIMELINE_MAIL   outbox (local default) | smtp | mailgun | off (production default)

Production refuses `outbox`, which keeps mail on one machine, as TIMELINE_PUSH
refuses it. Unset in production means `off`: no provider is implied by the
platform (push has FCM; mail has none), so a deploy that names none sends none
and says so at start-up, rather than failing to start.
"""

from __future__ import annotations

import email.utils
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

MailBackend = Literal["off", "outbox", "smtp", "mailgun"]
BACKENDS: tuple[MailBackend, ...] = ("off", "outbox", "smtp", "mailgun")
MAILGUN_BASE_URL = "https://api.mailgun.net"  # the EU region's: https://api.eu.mailgun.net
LOCAL_SENDER = "Photo Timeline <no-reply@localhost>"
Getter = Callable[[str, str | None], str | None]


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


def load_mail_settings(get: Getter, production: bool) -> MailSettings:
    from settings import PREFIX, SettingsError, _flag, _int

    backend = get("MAIL", "off" if production else "outbox")
    if backend not in BACKENDS:
        raise SettingsError(f"{PREFIX}MAIL must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if production and backend == "outbox":
        raise SettingsError(
            f"{PREFIX}MAIL=outbox only records e-mail on one machine; use smtp or mailgun"
        )
    domain = get("MAILGUN_DOMAIN", None) or None
    sender = get("MAIL_FROM", None) or (
        f"Photo Timeline <no-reply@{domain}>" if backend == "mailgun" and domain else None
    )
    if sender is None and backend == "smtp":
        raise SettingsError(f"{PREFIX}MAIL=smtp needs {PREFIX}MAIL_FROM (the From address)")
    sender = sender or LOCAL_SENDER
    if not _is_address(sender):
        raise SettingsError(
            f"{PREFIX}MAIL_FROM must be an address like 'Photo Timeline <no-reply@example.com>'"
        )
    host = get("SMTP_HOST", None) or None
    starttls = _flag(get("SMTP_STARTTLS", "1"), "SMTP_STARTTLS")
    user, password = get("SMTP_USER", None) or None, get("SMTP_PASSWORD", None) or None
    port = _int(get("SMTP_PORT", "587"), "SMTP_PORT")
    if backend == "smtp":
        if host is None:
            raise SettingsError(f"{PREFIX}MAIL=smtp needs {PREFIX}SMTP_HOST")
        if not 0 < port < 65536:
            raise SettingsError(f"{PREFIX}SMTP_PORT must be 1 to 65535, not {port}")
        if (user is None) != (password is None):
            raise SettingsError(f"{PREFIX}SMTP_USER and {PREFIX}SMTP_PASSWORD go together")
        if production and not starttls and not _is_loopback(host):
            raise SettingsError(
                f"{PREFIX}SMTP_STARTTLS=0 would send addresses (and the password) in clear "
                f"to {host}; only a relay on this machine may be reached without TLS"
            )
    api_key = get("MAILGUN_API_KEY", None) or None
    base_url = (get("MAILGUN_BASE_URL", None) or MAILGUN_BASE_URL).rstrip("/")
    if backend == "mailgun":
        if domain is None or api_key is None:
            raise SettingsError(
                f"{PREFIX}MAIL=mailgun needs {PREFIX}MAILGUN_DOMAIN and {PREFIX}MAILGUN_API_KEY"
            )
        scheme = urlsplit(base_url).scheme
        if scheme not in (("https",) if production else ("http", "https")):
            raise SettingsError(f"{PREFIX}MAILGUN_BASE_URL must be an https URL, not {base_url!r}")
    return MailSettings(
        backend=backend,
        sender=sender,
        smtp_host=host,
        smtp_port=port,
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
    _, address = email.utils.parseaddr(value)
    local, _, domain = address.rpartition("@")
    return bool(local) and bool(domain)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
