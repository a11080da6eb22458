"""OIDC tokens that Cloud Tasks attaches to HTTP-target requests.

Checked as google-auth's `id_token.verify_oauth2_token` checks them (RS256 signature
against Google's certificates, expiry, audience, a Google issuer), plus the one
thing that makes the token mean "Cloud Tasks, for us": the `email` claim is the
service account the queue signs as, and Google has verified it.

The certificates are fetched from `certs_url` (injectable: tests serve their own)
in a thread and cached for their Cache-Control max-age, instead of on every call.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Mapping
from typing import Any

import google.auth.exceptions
import google.auth.jwt
import google.auth.transport.requests

GOOGLE_ISSUERS = ("accounts.google.com", "https://accounts.google.com")
_DEFAULT_MAX_AGE = 300.0
_LONGEST_MAX_AGE = 86400.0
_MAX_AGE = re.compile(r"max-age\s*=\s*(\d+)", re.IGNORECASE)


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
        fetch_timeout_seconds: float = 10.0,
    ) -> None:
        if not audience or not service_account:
            raise ValueError("an OIDC verifier needs both an audience and a service account")
        self._audience = audience
        self._service_account = service_account
        self._certs_url = certs_url
        self._skew = clock_skew_seconds
        self._timeout = fetch_timeout_seconds
        self._certs: Mapping[str, str] = {}
        self._fresh_until = 0.0
        self._lock = threading.Lock()

    async def verify(self, token: str) -> Mapping[str, Any]:
        if len(token) > 8192 or token.count(".") != 2:
            raise TokenRejected("not a compact JWT")
        try:
            header = google.auth.jwt.decode_header(token)  # type: ignore[no-untyped-call]
        except ValueError as error:
            raise TokenRejected(f"malformed token: {error}") from error
        if header.get("alg") != "RS256":
            raise TokenRejected(f"unexpected algorithm {header.get('alg')!r}")
        certs = await asyncio.to_thread(self._current_certs)
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

    def _current_certs(self) -> Mapping[str, str]:
        with self._lock:
            if time.monotonic() >= self._fresh_until:
                self._certs, max_age = self._fetch()
                self._fresh_until = time.monotonic() + max_age
            return self._certs

    def _fetch(self) -> tuple[Mapping[str, str], float]:
        request = google.auth.transport.requests.Request()
        try:
            response = request(self._certs_url, method="GET", timeout=self._timeout)
        except google.auth.exceptions.TransportError as error:
            raise CertificatesUnavailable(f"cannot fetch {self._certs_url}: {error}") from error
        finally:
            request.session.close()
        if response.status != 200:
            raise CertificatesUnavailable(f"{self._certs_url} answered HTTP {response.status}")
        try:
            certs = json.loads(response.data)
        except ValueError as error:
            raise CertificatesUnavailable(f"{self._certs_url} sent no JSON") from error
        if not isinstance(certs, dict) or not all(isinstance(v, str) for v in certs.values()):
            raise CertificatesUnavailable(f"{self._certs_url} sent no certificates")
        match = _MAX_AGE.search(response.headers.get("Cache-Control", ""))
        max_age = float(match.group(1)) if match else _DEFAULT_MAX_AGE
        return certs, min(max_age, _LONGEST_MAX_AGE)
