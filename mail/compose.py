"""Text and HTML bodies for the app's e-mails, and the headers every one carries.

Usernames, display names and captions are user input: each goes into the HTML
through `html.escape` (quotes too, as some land in attributes), and into the text
part and the subject with control characters and line breaks flattened, so that
nothing a user typed can add markup, a link, or a header.

Every e-mail carries `List-Unsubscribe` (the signed HTTPS link, mail/links.py) and
`List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058), which lets a mail
client unsubscribe with one POST and no page; the same link is in the footer.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from mail.port import MailMessage

APP_NAME = "Photo Timeline"
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


@dataclass(frozen=True)
class Line:
    """One item of an e-mail: what happened, and optionally what it was about (a
    caption), quoted below it."""

    text: str
    quote: str | None = None


def one_line(value: str, limit: int = 200) -> str:
    """User input made safe for a header or a line of text: no line breaks, no
    control characters, at most `limit` characters."""
    flat = _CONTROL.sub(" ", value).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def compose(
    *,
    to: str,
    subject: str,
    heading: str,
    lines: Sequence[Line],
    action: tuple[str, str],
    unsubscribe_url: str,
    reason: str,
    message_id: str,
) -> MailMessage:
    """`action`: (label, URL) of the button; `reason`: why this person gets this
    e-mail, said in the footer beside the unsubscribe link. `message_id` is stable
    for what the e-mail stands for, so that a resend after a lost receipt is one
    message to clients that thread or deduplicate by Message-ID."""
    label, url = action
    text = "\n".join(
        [
            one_line(heading),
            "",
            *(f"- {one_line(line.text)}" + _quoted_text(line) for line in lines),
            *([""] if lines else []),
            f"{label}: {url}",
            "",
            "--",
            f"{reason} Unsubscribe: {unsubscribe_url}",
            "",
        ]
    )
    items = "".join(f"<li>{_escape(line.text)}{_quoted_html(line)}</li>" for line in lines)
    listed = f"<ul>{items}</ul>" if lines else ""
    body = (
        "<!DOCTYPE html>\n"
        '<html><head><meta charset="utf-8">'
        f"<title>{_escape(subject)}</title></head>"
        '<body style="font-family: sans-serif; line-height: 1.4">'
        f'<h1 style="font-size: 1.25em">{_escape(heading)}</h1>'
        f"{listed}"
        f'<p><a href="{_escape(url)}">{_escape(label)}</a></p>'
        f'<p style="color: #666; font-size: 0.85em">{_escape(reason)} '
        f'<a href="{_escape(unsubscribe_url)}">Unsubscribe</a></p>'
        "</body></html>\n"
    )
    return MailMessage(
        to=to,
        subject=one_line(subject),
        text=text,
        html=body,
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Message-ID": message_id,
        },
    )


def _escape(value: str) -> str:
    return html.escape(one_line(value, limit=500), quote=True)


def _quoted_text(line: Line) -> str:
    return f'\n  "{one_line(line.quote)}"' if line.quote else ""


def _quoted_html(line: Line) -> str:
    return f"<br><q>{_escape(line.quote)}</q>" if line.quote else ""
