"""Who is asking: the Viewer, and the contract every token verifier honours."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

__all__ = ["Clock", "Provider", "TokenVerifier", "Viewer", "system_clock"]

Provider = Literal["firebase", "dev"]

Clock = Callable[[], datetime]
"""Returns the current time as an aware datetime; injected so tests never sleep."""


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Viewer:
    """The authenticated caller. `user_id` is the token subject (Firebase uid or dev id)."""

    user_id: str
    provider: Provider
    email: str | None = None
    is_admin: bool = False


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> Viewer:
        """Return the Viewer the token speaks for, or raise `InvalidToken(reason)`."""
        ...
