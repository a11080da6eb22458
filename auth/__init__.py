"""Token verification: a bearer token in, a Viewer out (or InvalidToken with a reason)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auth.errors import AuthError, InvalidToken, Reason, VerifierUnavailable
from auth.firebase import FIREBASE_CERTS_URL, FirebaseTokenVerifier
from auth.viewer import Provider, TokenVerifier, Viewer

if TYPE_CHECKING:
    from auth.dev_tokens import DevTokenVerifier, key_path_in, mint_dev_token

__all__ = [
    "FIREBASE_CERTS_URL",
    "AuthError",
    "DevTokenVerifier",
    "FirebaseTokenVerifier",
    "InvalidToken",
    "Provider",
    "Reason",
    "TokenVerifier",
    "VerifierUnavailable",
    "Viewer",
    "key_path_in",
    "mint_dev_token",
]

_DEV_TOKEN_NAMES = frozenset({"DevTokenVerifier", "key_path_in", "mint_dev_token"})


def __getattr__(name: str) -> object:
    # Imported on first use so that `python -m auth.dev_tokens` does not find the
    # module already imported by its package (runpy would warn and run a second copy).
    if name in _DEV_TOKEN_NAMES:
        from auth import dev_tokens

        return getattr(dev_tokens, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
