"""Firebase ID tokens, checked against Google's published signing certificates.

Follows https://firebase.google.com/docs/auth/admin/verify-id-tokens: RS256 with a
`kid` naming one of the certificates at `certs_url`; `aud` is the project id; `iss` is
`https://securetoken.google.com/<project id>`; `sub` is a non-empty uid of at most 128
characters; `exp` is in the future and `iat` and `auth_time` are in the past.

google-auth fetches the certificates (its requests transport) and checks signatures
(`google.auth.crypt.RSAVerifier`). The claims are checked here rather than by
`google.oauth2.id_token.verify_firebase_token`, because that call fetches the
certificates on every call, reads the wall clock (tests inject theirs), ignores `nbf`
and `auth_time`, and reports failures only as free text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import google.auth.crypt
import google.auth.exceptions
import google.auth.transport.requests

from auth._jws import check_lifetime, parse_compact
from auth.certificates import FETCH_TIMEOUT, CertificateSource
from auth.errors import InvalidToken
from auth.viewer import Clock, Viewer, system_clock

__all__ = ["FIREBASE_CERTS_URL", "FirebaseTokenVerifier"]

FIREBASE_CERTS_URL = (
    "https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com"
)
_ISSUER_PREFIX = "https://securetoken.google.com/"
_MAX_TOKEN_LENGTH = 8192
_MAX_SUBJECT_LENGTH = 128


class _SignatureCheck(Protocol):
    def verify(self, message: bytes, signature: bytes) -> bool: ...


class FirebaseTokenVerifier:
    """Verifies Firebase ID tokens for one project.

    Certificates come from a CertificateSource (auth/certificates.py): cached for
    their max-age, one fetch at a time, none for a while after a failure.
    `email` is reported only when Firebase says it is verified.
    """

    def __init__(
        self,
        project_id: str,
        certs_url: str = FIREBASE_CERTS_URL,
        clock_skew_seconds: float = 10.0,
        *,
        clock: Clock = system_clock,
        fetch_timeout_seconds: float = FETCH_TIMEOUT,
    ) -> None:
        if not project_id:
            raise ValueError("project_id is required to verify Firebase ID tokens")
        if not 0 <= clock_skew_seconds <= 300:
            raise ValueError(f"clock_skew_seconds must be within 0..300: {clock_skew_seconds}")
        self._project_id = project_id
        self._issuer = _ISSUER_PREFIX + project_id
        self._clock_skew = clock_skew_seconds
        self._clock = clock
        self._certificates = CertificateSource(
            certs_url, _rsa_verifiers, clock=self._now, timeout=fetch_timeout_seconds
        )

    async def verify(self, token: str) -> Viewer:
        parsed = parse_compact(token, max_length=_MAX_TOKEN_LENGTH)
        if parsed.header.get("alg") != "RS256":
            raise InvalidToken("unsupported_algorithm")
        key_id = parsed.header.get("kid")
        if not isinstance(key_id, str) or not key_id:
            raise InvalidToken("malformed", "missing kid")
        verifier = (await self._certificates.current()).get(key_id)
        if verifier is None:
            raise InvalidToken("unknown_key")
        if not verifier.verify(parsed.signing_input, parsed.signature):
            raise InvalidToken("bad_signature")

        claims = parsed.claims
        if claims.get("aud") != self._project_id:
            raise InvalidToken("wrong_audience")
        if claims.get("iss") != self._issuer:
            raise InvalidToken("wrong_issuer")
        subject = claims.get("sub")
        if subject is None or subject == "":
            raise InvalidToken("missing_subject")
        if not isinstance(subject, str) or len(subject) > _MAX_SUBJECT_LENGTH:
            raise InvalidToken("invalid_subject")
        check_lifetime(
            claims,
            now=self._now(),
            leeway=self._clock_skew,
            issued_claims=("iat", "auth_time"),
        )
        email = claims.get("email")
        verified_email = (
            email if isinstance(email, str) and claims.get("email_verified") is True else None
        )
        return Viewer(
            user_id=subject,
            provider="firebase",
            email=verified_email,
            is_admin=claims.get("admin") is True,
        )

    def _now(self) -> float:
        return self._clock().timestamp()


def _rsa_verifiers(pems: Mapping[str, str]) -> Mapping[str, _SignatureCheck]:
    return {key_id: _rsa_verifier(pem) for key_id, pem in pems.items()}


def _rsa_verifier(certificate_pem: str) -> _SignatureCheck:
    verifier: _SignatureCheck = google.auth.crypt.RSAVerifier.from_string(certificate_pem)  # type: ignore[no-untyped-call]
    return verifier
