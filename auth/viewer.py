"""Who is asking: the Viewer, and the contract every token verifier honours."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = ["Provider", "TokenVerifier", "Viewer"]

Provider = Literal["firebase", "dev"]


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
