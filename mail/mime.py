"""A MailMessage as the RFC 5322 message an SMTP server receives:
multipart/alternative, text first and HTML second (clients show the last part
they can render), UTF-8 throughout."""

from __future__ import annotations

import email.utils
from email.message import EmailMessage
from email.policy import SMTP

from mail.port import MailMessage


def sender_domain(sender: str) -> str:
    return email.utils.parseaddr(sender)[1].rpartition("@")[2] or "localhost"


def mime_message(sender: str, message: MailMessage) -> EmailMessage:
    """Header values with a line break are refused (ValueError) by the SMTP policy:
    a header can never be injected through a subject or an address."""
    mime = EmailMessage(policy=SMTP)
    mime["From"] = sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = email.utils.formatdate(usegmt=True)
    for name, value in message.headers.items():
        mime[name] = value
    if "Message-ID" not in mime:
        mime["Message-ID"] = email.utils.make_msgid(domain=sender_domain(sender))
    mime.set_content(message.text)
    mime.add_alternative(message.html, subtype="html")
    return mime
