"""Fetching a signer's public certificates: `{key id: PEM}` from a URL, fresh for
the response's Cache-Control max-age (less its Age), at most a day.

Both Firebase ID tokens (auth/firebase.py) and Cloud Tasks' OIDC tokens
(tasks/oidc.py) are checked against certificates published this way. The fetch
blocks: callers run it in a thread.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

import google.auth.exceptions
import google.auth.transport.requests

from auth.errors import VerifierUnavailable

DEFAULT_MAX_AGE = 300.0
LONGEST_MAX_AGE = 86400.0
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?", re.IGNORECASE)


@dataclass(frozen=True)
class Certificates:
    pems: Mapping[str, str]
    fresh_for: float  # seconds from the fetch


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
