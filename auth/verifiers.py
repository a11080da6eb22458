"""Choosing the verifier for a token: dev tokens are HS256, Firebase ID tokens RS256.

Only the verifiers that settings enable exist; a token of a disabled kind is
refused as `unsupported_algorithm`, exactly as a forged one would be.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from auth.errors import InvalidToken
from auth.jwt_checks import read_token
from auth.verified_tokens import VerifiedTokens
from auth.viewer import TokenVerifier, Viewer
from clock import Clock, system_clock

# Tokens larger than this are refused before any parsing: Firebase's are ~1 KB.
MAX_TOKEN_LENGTH = 8192


class AlgorithmRouter:
    """A TokenVerifier that hands each token to the verifier for its `alg`."""

    def __init__(self, by_algorithm: Mapping[str, TokenVerifier]) -> None:
        self._by_algorithm = dict(by_algorithm)

    async def verify(self, token: str) -> Viewer:
        header = read_token(token, max_length=MAX_TOKEN_LENGTH).header
        verifier = self._by_algorithm.get(str(header.get("alg")))
        if verifier is None:
            raise InvalidToken("unsupported_algorithm")
        return await verifier.verify(token)


def build_verifier(
    *,
    dev_tokens_key: Path | None,
    firebase_project: str | None,
    firebase_certs_url: str | None,
    clock: Clock = system_clock,
) -> TokenVerifier:
    """The verifiers settings enable, behind the cache of verified tokens."""
    by_algorithm: dict[str, TokenVerifier] = {}
    if dev_tokens_key is not None:
        from auth.dev_tokens import DevTokenVerifier

        by_algorithm["HS256"] = DevTokenVerifier(dev_tokens_key, clock)
    if firebase_project:
        from auth.firebase import FIREBASE_CERTS_URL, FirebaseTokenVerifier

        by_algorithm["RS256"] = FirebaseTokenVerifier(
            firebase_project, certs_url=firebase_certs_url or FIREBASE_CERTS_URL, clock=clock
        )
    return VerifiedTokens(AlgorithmRouter(by_algorithm), clock, max_length=MAX_TOKEN_LENGTH)
