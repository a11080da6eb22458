"""The mail port: one message to one address, and what became of it.

    result = await mail.send(MailMessage("bob@example.com", "Your day", text, html))

`MailResult.status` is one of

    sent      the server or provider accepted the message for delivery
    retry     it could not take the message now (unreachable, overloaded, a 4xx
              reply); send again later
    rejected  it refused this message for good (a 5xx reply, a refused address,
              our credentials): retrying cannot help

Adapters never raise for any of these; they raise only for programming errors.
The From address is the adapter's (TIMELINE_MAIL_FROM), not the message's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

Status = Literal["sent", "retry", "rejected"]


@dataclass(frozen=True)
class MailMessage:
    to: str
    subject: str
    text: str
    html: str
    # Extra headers, e.g. List-Unsubscribe and List-Unsubscribe-Post (RFC 8058).
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MailResult:
    status: Status
    detail: str = ""


SENT = MailResult("sent")


class MailSender(Protocol):
    async def send(self, message: MailMessage) -> MailResult: ...

    async def close(self) -> None:
        """Release connections; safe to call twice."""
        ...
