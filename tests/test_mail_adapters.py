"""The mail adapters against real local servers: SMTP against aiosmtpd (plain, and
STARTTLS with a login), Mailgun's API against a stand-in that checks every request."""

from __future__ import annotations

import asyncio

from mail.mailgun import MailgunMail
from mail.port import MailMessage
from mail.smtp import SmtpMail
from tests.utils.mailgun_stub import serving_mailgun
from tests.utils.smtp_server import _free_port, serving_smtp

SENDER = "Photo Timeline <no-reply@timeline.test>"
UNSUBSCRIBE = {
    "List-Unsubscribe": "<https://timeline.test/email/unsubscribe?token=abc.def>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}


def message(to: str = "bob@example.com") -> MailMessage:
    return MailMessage(
        to,
        "You have 2 unread notifications",
        "alice liked your photo\n",
        "<p>alice liked your photo</p>\n",
        UNSUBSCRIBE,
    )


async def test_smtp_delivers_text_and_html_with_the_unsubscribe_headers() -> None:
    with serving_smtp() as smtp:
        mail = SmtpMail("127.0.0.1", smtp.port, sender=SENDER, starttls=False)
        result = await mail.send(message())
        assert result.status == "sent", result.detail
        [got] = smtp.received
    assert got.sender == "no-reply@timeline.test"
    assert got.recipients == ["bob@example.com"]
    assert got.message["Subject"] == "You have 2 unread notifications"
    assert got.message["From"] == SENDER
    assert got.message.get_content_type() == "multipart/alternative"
    assert got.part("plain") == "alice liked your photo\n"
    assert got.part("html") == "<p>alice liked your photo</p>\n"
    for name, value in UNSUBSCRIBE.items():
        assert got.message[name] == value


async def test_smtp_upgrades_with_starttls_before_logging_in() -> None:
    with serving_smtp(tls=True, login=("timeline", "s3cret")) as smtp:
        mail = SmtpMail(
            "127.0.0.1",
            smtp.port,
            sender=SENDER,
            user="timeline",
            password="s3cret",
            tls_context=smtp.client_tls(),
        )
        assert (await mail.send(message())).status == "sent"
        wrong = SmtpMail(
            "127.0.0.1",
            smtp.port,
            sender=SENDER,
            user="timeline",
            password="guess",
            tls_context=smtp.client_tls(),
        )
        refused = await wrong.send(message())
        # Without STARTTLS the server (which requires it) takes nothing.
        clear = SmtpMail("127.0.0.1", smtp.port, sender=SENDER, starttls=False)
        unencrypted = await clear.send(message())
        received = list(smtp.received)
    assert [(r.tls, r.login) for r in received] == [(True, "timeline")]
    assert refused.status == "rejected"
    assert "535" in refused.detail
    assert unencrypted.status == "rejected"


async def test_smtp_replies_map_to_retry_and_rejected() -> None:
    with serving_smtp() as smtp:
        smtp.refuse("gone@example.com", "550 5.1.1 No such user")
        smtp.refuse("full@example.com", "452 4.2.2 Mailbox full, try later")
        mail = SmtpMail("127.0.0.1", smtp.port, sender=SENDER, starttls=False)
        gone, full, fine = await asyncio.gather(
            mail.send(message("gone@example.com")),
            mail.send(message("full@example.com")),
            mail.send(message("fine@example.com")),
        )
        assert [r.recipients for r in smtp.received] == [["fine@example.com"]]
    assert (gone.status, full.status, fine.status) == ("rejected", "retry", "sent")
    assert "550" in gone.detail
    # Nobody listening: come back later.
    down = SmtpMail("127.0.0.1", _free_port(), sender=SENDER, starttls=False)
    assert (await down.send(message())).status == "retry"


async def test_smtp_refuses_a_header_injection_through_the_subject() -> None:
    with serving_smtp() as smtp:
        mail = SmtpMail("127.0.0.1", smtp.port, sender=SENDER, starttls=False)
        bad = MailMessage("bob@example.com", "hi\r\nBcc: eve@example.com", "t", "<p>t</p>")
        try:
            await mail.send(bad)
        except ValueError:
            pass
        else:
            raise AssertionError("a subject with a line break was sent")
        assert smtp.received == []


async def test_mailgun_posts_the_form_mailgun_documents() -> None:
    with serving_mailgun("mg.timeline.test", "key-123") as mailgun:
        mail = MailgunMail("mg.timeline.test", "key-123", sender=SENDER, base_url=mailgun.url)
        try:
            result = await mail.send(message())
        finally:
            await mail.close()
        assert mailgun.problems == []
        [accepted] = mailgun.sent
    assert result.status == "sent"
    assert result.detail == "<1@mg.timeline.test>"
    assert accepted.form["from"] == SENDER
    assert accepted.form["to"] == "bob@example.com"
    assert accepted.form["subject"] == "You have 2 unread notifications"
    assert accepted.form["text"] == "alice liked your photo\n"
    assert accepted.form["html"] == "<p>alice liked your photo</p>\n"
    assert accepted.headers == UNSUBSCRIBE


async def test_mailgun_answers_map_to_retry_and_rejected() -> None:
    with serving_mailgun("mg.timeline.test", "key-123") as mailgun:
        mail = MailgunMail("mg.timeline.test", "key-123", sender=SENDER, base_url=mailgun.url)
        wrong_key = MailgunMail("mg.timeline.test", "key-456", sender=SENDER, base_url=mailgun.url)
        wrong_domain = MailgunMail("other.test", "key-123", sender=SENDER, base_url=mailgun.url)
        mailgun.answer("busy@example.com", 429, 500)
        mailgun.answer("bad@example.com", 400)
        try:
            results = [
                await mail.send(message("busy@example.com")),
                await mail.send(message("busy@example.com")),
                await mail.send(message("busy@example.com")),
                await mail.send(message("bad@example.com")),
                await wrong_key.send(message()),
                await wrong_domain.send(message()),
            ]
        finally:
            for adapter in (mail, wrong_key, wrong_domain):
                await adapter.close()
        problems = list(mailgun.problems)
        delivered = [a.form["to"] for a in mailgun.sent]
    assert [r.status for r in results] == [
        "retry",
        "retry",
        "sent",
        "rejected",
        "rejected",
        "rejected",
    ]
    assert delivered == ["busy@example.com"]
    assert len(problems) == 2  # the wrong key and the wrong domain, as Mailgun refuses them
    down = MailgunMail(
        "mg.timeline.test", "k", sender=SENDER, base_url=f"http://127.0.0.1:{_free_port()}"
    )
    try:
        assert (await down.send(message())).status == "retry"
    finally:
        await down.close()
