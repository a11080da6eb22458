"""Choosing the mail adapter from TIMELINE_* variables, and the outbox's command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from mail.mailgun import MailgunMail
from mail.outbox import MailOutbox, main
from mail.port import MailMessage
from mail.smtp import SmtpMail
from mail.wiring import mail_from_settings
from settings import SettingsError, load_settings
from tests.test_push_settings import PRODUCTION

ORIGIN = {"TIMELINE_PUBLIC_ORIGIN": "https://timeline.example.com"}
SMTP = {
    "TIMELINE_MAIL": "smtp",
    "TIMELINE_SMTP_HOST": "smtp.example.com",
    "TIMELINE_MAIL_FROM": "Photo Timeline <no-reply@example.com>",
}
MAILGUN = {
    "TIMELINE_MAIL": "mailgun",
    "TIMELINE_MAILGUN_DOMAIN": "mg.example.com",
    "TIMELINE_MAILGUN_API_KEY": "key-123",
}


def test_locally_e_mail_goes_to_the_outbox(tmp_path: Path) -> None:
    settings = load_settings({"TIMELINE_ENV": "local", "TIMELINE_VAR_DIR": str(tmp_path)})
    mail = mail_from_settings(settings)
    assert mail is not None
    assert isinstance(mail.sender, MailOutbox)
    assert mail.sender.path == str(tmp_path / "timeline.db")
    assert mail.links.url("u1", "digest").startswith("http://127.0.0.1:8080/email/unsubscribe?")


def test_production_refuses_the_outbox_and_sends_nothing_unless_told() -> None:
    with pytest.raises(SettingsError, match="TIMELINE_MAIL=outbox"):
        load_settings({**PRODUCTION, "TIMELINE_MAIL": "outbox"})
    settings = load_settings(PRODUCTION)
    assert settings.mail.backend == "off"
    assert mail_from_settings(settings) is None


def test_production_chooses_smtp_with_starttls_or_mailgun() -> None:
    smtp = mail_from_settings(load_settings({**PRODUCTION, **ORIGIN, **SMTP}))
    assert smtp is not None
    assert isinstance(smtp.sender, SmtpMail)
    assert (smtp.sender.host, smtp.sender.port) == ("smtp.example.com", 587)
    assert smtp.links.url("u1", "digest").startswith("https://timeline.example.com/")
    mailgun = mail_from_settings(load_settings({**PRODUCTION, **ORIGIN, **MAILGUN}))
    assert mailgun is not None
    assert isinstance(mailgun.sender, MailgunMail)
    assert mailgun.sender.url == "https://api.mailgun.net/v3/mg.example.com/messages"
    eu = load_settings(
        {
            **PRODUCTION,
            **ORIGIN,
            **MAILGUN,
            "TIMELINE_MAILGUN_BASE_URL": "https://api.eu.mailgun.net",
        }
    )
    assert eu.mail.sender == "Photo Timeline <no-reply@mg.example.com>"
    assert eu.mail.mailgun_base_url == "https://api.eu.mailgun.net"


@pytest.mark.parametrize(
    ("extra", "complaint"),
    [
        ({**SMTP, "TIMELINE_SMTP_HOST": ""}, "TIMELINE_SMTP_HOST"),
        ({**SMTP, "TIMELINE_MAIL_FROM": ""}, "TIMELINE_MAIL_FROM"),
        ({**SMTP, "TIMELINE_MAIL_FROM": "a@b.c\r\nBcc: eve@x.y"}, "TIMELINE_MAIL_FROM"),
        ({**SMTP, "TIMELINE_SMTP_USER": "u"}, "go together"),
        ({**SMTP, "TIMELINE_SMTP_STARTTLS": "0"}, "in clear"),
        ({**SMTP, "TIMELINE_SMTP_PORT": "0"}, "TIMELINE_SMTP_PORT"),
        ({**MAILGUN, "TIMELINE_MAILGUN_API_KEY": ""}, "TIMELINE_MAILGUN_API_KEY"),
        ({**MAILGUN, "TIMELINE_MAILGUN_DOMAIN": "a@b.c"}, "TIMELINE_MAILGUN_DOMAIN must be"),
        ({**MAILGUN, "TIMELINE_MAILGUN_BASE_URL": "http://api.mailgun.net"}, "https"),
        ({"TIMELINE_MAIL": "sendmail"}, "TIMELINE_MAIL must be one of"),
    ],
)
def test_production_refuses_incomplete_or_unsafe_mail_settings(
    extra: dict[str, str], complaint: str
) -> None:
    with pytest.raises(SettingsError, match=complaint):
        load_settings({**PRODUCTION, **ORIGIN, **extra})


def test_mail_that_leaves_the_machine_needs_the_public_origin() -> None:
    with pytest.raises(SettingsError, match="TIMELINE_PUBLIC_ORIGIN"):
        load_settings({**PRODUCTION, **SMTP})
    # A relay on the same machine may be reached without TLS.
    local_relay = {**SMTP, "TIMELINE_SMTP_HOST": "127.0.0.1", "TIMELINE_SMTP_STARTTLS": "0"}
    assert load_settings({**PRODUCTION, **ORIGIN, **local_relay}).mail.smtp_starttls is False


async def test_the_outbox_command_line_prints_what_was_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "timeline.db"
    outbox = MailOutbox(db)
    html = "<p>alice &amp; bob</p>\n"
    await outbox.send(MailMessage("bob@example.com", "Hello", "alice & bob\n", html))
    await outbox.close()
    assert main(["--db", str(db)]) == 0
    listed = capsys.readouterr().out
    assert "#1 " in listed
    assert "to bob@example.com: Hello" in listed
    assert main(["--db", str(db), "--show", "1"]) == 0
    shown = capsys.readouterr().out
    assert "Subject: Hello" in shown
    assert "alice & bob" in shown
    assert main(["--db", str(db), "--html", "1"]) == 0
    assert capsys.readouterr().out == html + "\n"
    assert main(["--db", str(db), "--show", "9"]) == 1
