"""A signer's public certificates, `{key id: PEM}` from a URL, shared by every
verification: Firebase ID tokens (auth/firebase.py) and Cloud Tasks' OIDC tokens
(auth/oidc.py) are checked against certificates published this way.

Forged tokens must cost no network, so `CertificateSource`:
- keeps the certificates for the response's Cache-Control max-age (less its Age),
  at most a day;
- has one fetch in flight at a time: concurrent verifications on a cold cache all
  wait for the same fetch (which runs in a thread, leaving the loop free);
- gives that fetch FETCH_TIMEOUT seconds;
- after a failed fetch, fetches nothing for RETRY_AFTER seconds and raises
  VerifierUnavailable at once (the transport answers 503 with Retry-After).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

import google.auth.exceptions
import google.auth.transport.requests

from auth.errors import VerifierUnavailable

DEFAULT_MAX_AGE = 300.0
LONGEST_MAX_AGE = 86400.0
FETCH_TIMEOUT = 3.0
RETRY_AFTER = 5.0
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?", re.IGNORECASE)

T = TypeVar("T")


@dataclass(frozen=True)
class Certificates:
    pems: Mapping[str, str]
    fresh_for: float  # seconds from the fetch


class CertificateSource(Generic[T]):
    """The certificates at `url`, turned by `convert` (in the fetching thread) into
    what the verifier checks signatures with; `convert` raising ValueError makes
    the certificates unusable, as an unreachable URL does."""

    def __init__(
        self,
        url: str,
        convert: Callable[[Mapping[str, str]], T],
        *,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = FETCH_TIMEOUT,
        retry_after: float = RETRY_AFTER,
    ) -> None:
        self._url = url
        self._convert = convert
        self._clock = clock
        self._timeout = timeout
        self._retry_after = retry_after
        self._current: T | None = None
        self._fresh_until = 0.0
        self._retry_at = 0.0
        self._fetching: asyncio.Task[T] | None = None

    async def current(self) -> T:
        now = self._clock()
        if self._current is not None and now < self._fresh_until:
            return self._current
        if now < self._retry_at:
            raise VerifierUnavailable(f"{self._url} failed lately; not asking again until later")
        fetching = self._fetching
        if fetching is None or fetching.get_loop() is not asyncio.get_running_loop():
            fetching = asyncio.get_running_loop().create_task(self._refresh(now))
            # Retrieved here so that a failure nobody is waiting for any more is not
            # reported as "never retrieved".
            fetching.add_done_callback(lambda task: task.cancelled() or task.exception())
            self._fetching = fetching
        # A waiter that gives up (its request was cancelled) leaves the fetch running.
        return await asyncio.shield(fetching)

    async def _refresh(self, started: float) -> T:
        try:
            fetched, converted = await asyncio.to_thread(self._fetch)
        except VerifierUnavailable:
            self._retry_at = self._clock() + self._retry_after
            raise
        else:
            self._current, self._fresh_until = converted, started + fetched.fresh_for
            return converted
        finally:
            self._fetching = None

    def _fetch(self) -> tuple[Certificates, T]:
        fetched = fetch_certificates(self._url, timeout=self._timeout)
        try:
            return fetched, self._convert(fetched.pems)
        except ValueError as error:
            raise VerifierUnavailable(f"unusable certificates at {self._url}: {error}") from error


def fetch_certificates(url: str, *, timeout: float) -> Certificates:
    """Raises VerifierUnavailable when the URL cannot be reached or sends no
    certificates: the caller should answer "try again", not "invalid token"."""
    request = google.auth.transport.requests.Request()
    try:
        response = request(url, method="GET", timeout=timeout)
    except google.auth.exceptions.TransportError as error:
        raise VerifierUnavailable(f"cannot fetch {url}: {error}") from error
    finally:
        request.session.close()
    if response.status != 200:
        raise VerifierUnavailable(f"{url} answered HTTP {response.status}")
    try:
        body = json.loads(response.data)
    except ValueError as error:
        raise VerifierUnavailable(f"{url} sent no JSON") from error
    if not isinstance(body, dict) or not all(
        isinstance(key_id, str) and isinstance(pem, str) for key_id, pem in body.items()
    ):
        raise VerifierUnavailable(f"{url} sent no object of key id to PEM certificate")
    return Certificates(body, freshness(response.headers))


def freshness(headers: Mapping[str, str]) -> float:
    match = _MAX_AGE.search(headers.get("Cache-Control", ""))
    if match is None:
        return DEFAULT_MAX_AGE
    age = headers.get("Age", "0")
    fresh_for = float(match.group(1)) - (float(age) if age.isdigit() else 0.0)
    return min(max(0.0, fresh_for), LONGEST_MAX_AGE)
