"""OIDC tokens that Cloud Tasks (and Cloud Scheduler) attach to HTTP-target requests.

Checked as google-auth's `id_token.verify_oauth2_token` checks them (RS256 signature
against Google's certificates, expiry, audience, a Google issuer), on the same
joserfc path as every other token (auth/jwt_checks.py), plus the one thing that
makes the token mean "Cloud Tasks, for us": the `email` claim is the service
account the queue signs as, and Google has verified it.

The certificates come from `certs_url` (injectable: tests serve their own) through
a CertificateSource: cached for their max-age, one fetch at a time, none for a
while after a failure (auth/certificates.py). A token refused is `InvalidToken`;
certificates out of reach are `VerifierUnavailable` (the caller should retry).
"""

from __future__ import annotations

from collections.abc import Mapping

from joserfc.jwk import Key

from auth.certificates import FETCH_TIMEOUT, CertificateSource
from auth.errors import InvalidToken
from auth.jwt_checks import check_lifetime, read_token, rsa_key
from clock import Clock, system_clock

__all__ = ["GOOGLE_ISSUERS", "OidcVerifier"]

GOOGLE_ISSUERS = ("accounts.google.com", "https://accounts.google.com")
_ALGORITHM = "RS256"
_MAX_TOKEN_LENGTH = 8192


class OidcVerifier:
    def __init__(
        self,
        *,
        audience: str,
        service_account: str,
        certs_url: str,
        clock_skew_seconds: int = 10,
        clock: Clock = system_clock,
        fetch_timeout_seconds: float = FETCH_TIMEOUT,
    ) -> None:
        if not audience or not service_account:
            raise ValueError("an OIDC verifier needs both an audience and a service account")
        self._audience = audience
        self._service_account = service_account
        self._skew = clock_skew_seconds
        self._clock = clock
        self._certificates = CertificateSource(certs_url, _rsa_keys, timeout=fetch_timeout_seconds)

    async def verify(self, token: str) -> Mapping[str, object]:
        """The token's claims, or InvalidToken; VerifierUnavailable if the
        certificates cannot be had."""
        parsed = read_token(token, max_length=_MAX_TOKEN_LENGTH)
        if parsed.header.get("alg") != _ALGORITHM:
            raise InvalidToken("unsupported_algorithm")
        key = (await self._certificates.current()).get(str(parsed.header.get("kid")))
        if key is None:
            raise InvalidToken("unknown_key")
        parsed.check_signature(key, _ALGORITHM)
        claims = parsed.claims
        check_lifetime(claims, clock=self._clock, leeway_seconds=self._skew)
        if claims.get("aud") != self._audience:
            raise InvalidToken("wrong_audience")
        if claims.get("iss") not in GOOGLE_ISSUERS:
            raise InvalidToken("wrong_issuer", f"{claims.get('iss')!r} is not Google")
        email = claims.get("email")
        if email != self._service_account or claims.get("email_verified") is not True:
            raise InvalidToken("invalid_subject", f"for {email!r}, not the tasks account")
        return claims


def _rsa_keys(pems: Mapping[str, str]) -> Mapping[str, Key]:
    return {key_id: rsa_key(pem) for key_id, pem in pems.items()}
