"""Choosing the mail adapter from settings, in one place (called by the app factory)."""

from __future__ import annotations

import logging

from clock import Clock, system_clock
from mail.links import UnsubscribeLinks
from mail.port import MailSender
from mail.service import MailService
from settings import Settings
from store.sqlite_db import SQLiteDatabase

log = logging.getLogger("timeline.mail")


def mail_from_settings(
    settings: Settings,
    database: SQLiteDatabase | None = None,
    sender: MailSender | None = None,
    clock: Clock = system_clock,
) -> MailService | None:
    """None when e-mail is off. `database`: the embedded file's access layer, shared
    with the store and the queue; `sender`: an adapter to use instead (tests);
    `clock`: the app's, which stamps the local outbox's entries."""
    config = settings.mail
    origin = settings.web.public_origin
    if config.backend == "off" or origin is None:
        log.warning("e-mail is off: set TIMELINE_MAIL=smtp or mailgun to send digests")
        return None
    return MailService(sender or _adapter(settings, database, clock), unsubscribe_links(settings))


def unsubscribe_links(settings: Settings) -> UnsubscribeLinks:
    """Mounted even while e-mail is off, so that links in earlier e-mails still work."""
    return UnsubscribeLinks(settings.web.public_origin or "", settings.secret_key)


def _adapter(settings: Settings, database: SQLiteDatabase | None, clock: Clock) -> MailSender:
    config = settings.mail
    if config.backend == "smtp":
        from mail.smtp import SmtpMail

        assert config.smtp_host is not None  # settings refuse smtp without a host
        return SmtpMail(
            config.smtp_host,
            config.smtp_port,
            sender=config.sender,
            user=config.smtp_user,
            password=config.smtp_password,
            starttls=config.smtp_starttls,
        )
    if config.backend == "mailgun":
        from mail.mailgun import MailgunMail

        # Settings refuse mailgun without both.
        assert config.mailgun_domain is not None
        assert config.mailgun_api_key is not None
        return MailgunMail(
            config.mailgun_domain,
            config.mailgun_api_key,
            sender=config.sender,
            base_url=config.mailgun_base_url,
        )
    from mail.outbox import MailOutbox

    return MailOutbox(database or settings.sqlite_path, sender=config.sender, clock=clock)
