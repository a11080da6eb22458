"""The push port: one message to one device, and what became of it.

    result = await push.send(token, "IOS", PushMessage("Photo Timeline", "alice liked your photo"))

`PushResult.status` is one of

    delivered     the push service accepted the message for the device
    unregistered  the token is dead (the app was uninstalled, the token rotated, or it
                  never was a token of this project): forget it
    retry         the service is overloaded or failed; send again later (`retry_after`
                  holds the seconds it asked for, when it said)
    rejected      the service refused this message for good for a reason that is not
                  the token's (our payload, our credentials for APNs): retrying cannot
                  help, and the token stays

Adapters never raise for any of these; they raise only for programming errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

Platform = Literal["IOS", "ANDROID", "WEB"]
PLATFORMS: tuple[Platform, ...] = ("IOS", "ANDROID", "WEB")
Status = Literal["delivered", "unregistered", "retry", "rejected"]


@dataclass(frozen=True)
class PushMessage:
    title: str
    body: str
    data: Mapping[str, str] = field(default_factory=dict)
    # A newer message with the same key replaces the older one on the device, so a
    # coalesced notification ("alice and 4 others ...") shows once, up to date.
    collapse_key: str | None = None


@dataclass(frozen=True)
class PushResult:
    status: Status
    retry_after: float | None = None
    detail: str = ""


DELIVERED = PushResult("delivered")
UNREGISTERED = PushResult("unregistered")


class PushSender(Protocol):
    async def send(self, token: str, platform: Platform, message: PushMessage) -> PushResult: ...

    async def close(self) -> None:
        """Release connections; safe to call twice."""
        ...
