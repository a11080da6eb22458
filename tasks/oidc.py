"""OIDC tokens that Cloud Tasks attaches to HTTP-target requests.

Checked as google-auth's `id_token.verify_oauth2_token` checks them (RS256 signature
against Google's certificates, expiry, audience, a Google issuer), plus the one
thing that makes the token mean "Cloud Tasks, for us": the `email` claim is the
service account the queue signs as, and Google has verified it.

The certificates come from `certs_url` (injectable: tests serve their own) through
a CertificateSource: cached for their max-age, one fetch at a time, none for a
while after a failure (auth/certificates.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import google.auth.exceptions
import google.auth.jwt

from auth.certificates import FETCH_TIMEOUT, CertificateSource
from auth.errors import VerifierUnavailable

GOOGLE_ISSUERS = ("accounts.google.com", "https://accounts.google.com")


class TokenRejected(Exception):
    """The token is not a valid Cloud Tasks token for this app."""


class CertificatesUnavailable(Exception):
    """Google's signing certificates could not be fetched; the caller should retry."""


class OidcVerifier:
    def __init__(
        self,
        *,
        audience: str,
        service_account: str,
        certs_url: str,
        clock_skew_seconds: int = 10,
        fetch_timeout_seconds: float = FETCH_TIMEOUT,
    ) -> None:
        if not audience or not service_account:
            raise ValueError("an OIDC verifier needs both an audience and a service account")
        self._audience = audience
        self._service_account = service_account
        self._skew = clock_skew_seconds
        self._certificates = CertificateSource(certs_url, dict, timeout=fetch_timeout_seconds)

    async def verify(self, token: str) -> Mapping[str, Any]:
        if len(token) > 8192 or token.count(".") != 2:
            raise TokenRejected("not a compact JWT")
        try:
            header = google.auth.jwt.decode_header(token)  # type: ignore[no-untyped-call]
        except ValueError as error:
            raise TokenRejected(f"malformed token: {error}") from error
        if header.get("alg") != "RS256":
            raise TokenRejected(f"unexpected algorithm {header.get('alg')!r}")
        try:
            certs = await self._certificates.current()
        except VerifierUnavailable as error:
            raise CertificatesUnavailable(str(error)) from error
        try:
            claims: Mapping[str, Any] = google.auth.jwt.decode(  # type: ignore[no-untyped-call]
                token, certs=certs, audience=self._audience, clock_skew_in_seconds=self._skew
            )
        except (ValueError, google.auth.exceptions.GoogleAuthError) as error:
            raise TokenRejected(str(error)) from error
        if claims.get("iss") not in GOOGLE_ISSUERS:
            raise TokenRejected(f"issuer {claims.get('iss')!r} is not Google")
        if claims.get("email") != self._service_account or claims.get("email_verified") is not True:
            raise TokenRejected(f"token is for {claims.get('email')!r}, not the tasks account")
        return claims
