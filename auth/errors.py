"""Errors raised while turning a bearer token into a Viewer.

    AuthError
     ├── InvalidToken          the token is not acceptable; the client must sign in again
     │                         (`reason` is a short machine-stable string, see `Reason`)
     └── VerifierUnavailable   the token could not be checked right now (signing
                               certificates unreachable or unusable); retry later

The transport maps InvalidToken to an unauthenticated error and VerifierUnavailable to
a temporary server error. Neither message is meant for clients beyond `reason`.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["AuthError", "InvalidToken", "Reason", "VerifierUnavailable"]

Reason = Literal[
    "malformed",
    "unsupported_algorithm",
    "unknown_key",
    "bad_signature",
    "expired",
    "not_yet_valid",
    "wrong_audience",
    "wrong_issuer",
    "missing_subject",
    "invalid_subject",
]


class AuthError(Exception):
    """Base class of every error raised by the auth package."""


class InvalidToken(AuthError):
    """The token was rejected; `reason` says why in a stable, machine-readable word."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason: Reason = reason
        self.detail = detail


class VerifierUnavailable(AuthError):
    """The verifier could not obtain what it needs to check a token (e.g. certificates)."""
