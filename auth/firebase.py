"""Firebase ID tokens, checked against Google's published signing certificates.

Follows https://firebase.google.com/docs/auth/admin/verify-id-tokens: RS256 with a
`kid` naming one of the certificates at `certs_url`; `aud` is the project id; `iss` is
`https://securetoken.google.com/<project id>`; `sub` is a non-empty uid of at most 128
characters; `exp` is in the future and `iat` and `auth_time` are in the past.

The token is read and its signature and times checked on joserfc (auth/jwt_checks.py),
the certificates fetched and cached by a CertificateSource. Not
`google.oauth2.id_token.verify_firebase_token`: it fetches the certificates on every
call, reads the wall clock (tests inject theirs), ignores `nbf` and `auth_time`, and
reports failures only as free text.
"""

from __future__ import annotations

from collections.abc import Mapping

from joserfc.jwk import Key

from auth.certificates import FETCH_TIMEOUT, CertificateSource
from auth.errors import InvalidToken
from auth.jwt_checks import check_lifetime, read_token, rsa_key
from auth.viewer import Viewer
from clock import Clock, system_clock

__all__ = ["FIREBASE_CERTS_URL", "FirebaseTokenVerifier"]

FIREBASE_CERTS_URL = (
    "https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com"
)
_ISSUER_PREFIX = "https://securetoken.google.com/"
_MAX_TOKEN_LENGTH = 8192
_MAX_SUBJECT_LENGTH = 128
_ALGORITHM = "RS256"


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
        clock_skew_seconds: int = 10,
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
            certs_url, _rsa_keys, clock=self._now, timeout=fetch_timeout_seconds
        )

    async def verify(self, token: str) -> Viewer:
        parsed = read_token(token, max_length=_MAX_TOKEN_LENGTH)
        if parsed.header.get("alg") != _ALGORITHM:
            raise InvalidToken("unsupported_algorithm")
        key_id = parsed.header.get("kid")
        if not isinstance(key_id, str) or not key_id:
            raise InvalidToken("malformed", "missing kid")
        key = (await self._certificates.current()).get(key_id)
        if key is None:
            raise InvalidToken("unknown_key")
        parsed.check_signature(key, _ALGORITHM)

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
            clock=self._clock,
            leeway_seconds=self._clock_skew,
            required=("exp", "iat", "auth_time"),
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


def _rsa_keys(pems: Mapping[str, str]) -> Mapping[str, Key]:
    return {key_id: rsa_key(pem) for key_id, pem in pems.items()}
