"""Firebase Cloud Messaging, HTTP v1: one `messages:send` request per device.

    POST {endpoint}/v1/projects/{project}/messages:send
    Authorization: Bearer <OAuth2 access token, scope firebase.messaging>

The access token comes from google-auth: Application Default Credentials on App
Engine (the app's service account), or any `Credentials` handed in (tests give a
service account whose token_uri is their stub). Tokens are reused until they
expire and refreshed under a lock, so concurrent sends share one refresh.

How answers map to `PushResult` (https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode,
and "Detect invalid token responses" in the token-management guide):

    2xx                                          delivered
    UNREGISTERED (404)                           unregistered
    SENDER_ID_MISMATCH (403)                     unregistered: a token of another project
    INVALID_ARGUMENT (400) as an FcmError        unregistered: FCM's word for a malformed
                                                 token; a bad payload comes back as a
                                                 BadRequest field violation instead
    429, 500, 502, 503, 504, or no answer        retry, with Retry-After when given
    401 once                                     refresh the access token and send again
    anything else                                rejected (logged by the caller)
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import google.auth
import google.auth.credentials
import google.auth.exceptions
import google.auth.transport.requests
import requests

from clock import Clock
from push.message import fcm_message
from push.port import DELIVERED, Platform, PushMessage, PushResult

FCM_ENDPOINT = "https://fcm.googleapis.com"
FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_RETRY_CODES = frozenset({"QUOTA_EXCEEDED", "UNAVAILABLE", "INTERNAL"})
_DEAD_TOKEN_CODES = frozenset({"UNREGISTERED", "SENDER_ID_MISMATCH"})
_FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
_BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"
# Sends in flight at once, on threads of their own: an FCM that answers slowly (up
# to the timeout) holds these, never asyncio's default executor, which the
# Datastore and Cloud Storage calls of every request share. Sends beyond them wait.
PUSH_THREADS = 8


class FcmPush:
    def __init__(
        self,
        project: str,
        *,
        clock: Clock,
        credentials: google.auth.credentials.Credentials | None = None,
        endpoint: str = FCM_ENDPOINT,
        timeout_seconds: float = 10.0,
    ) -> None:
        if not project:
            raise ValueError("FCM needs the Firebase project id")
        self.url = f"{endpoint.rstrip('/')}/v1/projects/{project}/messages:send"
        self._clock = clock  # the app's: what a Retry-After date is counted from
        self._credentials = credentials
        self._timeout = timeout_seconds
        self._session = requests.Session()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(PUSH_THREADS, thread_name_prefix="push-io")

    async def send(self, token: str, platform: Platform, message: PushMessage) -> PushResult:
        body = fcm_message(token, platform, message)
        return await asyncio.wrap_future(self._pool.submit(self._send, body))

    async def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._session.close()

    def _send(self, body: dict[str, Any]) -> PushResult:
        for attempt in range(2):
            try:
                bearer = self._access_token(refresh=attempt > 0)
            except google.auth.exceptions.GoogleAuthError as error:
                return PushResult("retry", detail=f"no access token: {error}")
            if not bearer:
                return PushResult("retry", detail="the credentials gave no access token")
            try:
                response = self._session.post(
                    self.url,
                    json=body,
                    headers={"Authorization": f"Bearer {bearer}"},
                    timeout=self._timeout,
                )
            except requests.RequestException as error:
                return PushResult("retry", detail=f"no answer from FCM: {error}")
            result = classify(
                response.status_code, response.headers, response.content, now=self._clock()
            )
            # A 401 that is not about APNs/web-push credentials means our access token
            # was revoked or expired early: one fresh token, one more try.
            third_party = _error(response.content)[0] == "THIRD_PARTY_AUTH_ERROR"
            if response.status_code != 401 or third_party or attempt > 0:
                return result
        raise AssertionError("unreachable")

    def _access_token(self, *, refresh: bool) -> str | None:
        with self._lock:
            if self._credentials is None:
                self._credentials, _ = google.auth.default(scopes=[FCM_SCOPE])
            credentials = self._credentials
            if refresh or not credentials.valid:
                request = google.auth.transport.requests.Request(self._session)
                credentials.refresh(request)  # type: ignore[no-untyped-call]
            token = credentials.token
        return token if isinstance(token, str) else None


def classify(
    status: int, headers: Mapping[str, str], content: bytes, *, now: datetime
) -> PushResult:
    """What an FCM answer, received at `now`, means for the token and for the task."""
    if 200 <= status < 300:
        return DELIVERED
    fcm_code, status_name, violations, text = _error(content)
    detail = f"HTTP {status} {fcm_code or status_name}: {text}".strip()
    if fcm_code in _DEAD_TOKEN_CODES:
        return PushResult("unregistered", detail=detail)
    if fcm_code == "INVALID_ARGUMENT" and all(v == "message.token" for v in violations):
        return PushResult("unregistered", detail=detail)
    if status in _RETRY_STATUSES or fcm_code in _RETRY_CODES:
        return PushResult(
            "retry", retry_after=retry_after(headers.get("Retry-After"), now=now), detail=detail
        )
    return PushResult("rejected", detail=detail)


def retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds from a Retry-After header: a number of seconds, or an HTTP date
    counted from `now`."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _error(content: bytes) -> tuple[str | None, str, list[str], str]:
    """(FcmError errorCode, google.rpc status, BadRequest fields, message) of an error body."""
    try:
        error = json.loads(content)["error"]
    except (ValueError, KeyError, TypeError):
        return None, "", [], content[:200].decode("utf-8", "replace")
    if not isinstance(error, dict):
        return None, "", [], ""
    fcm_code: str | None = None
    violations: list[str] = []
    for detail in error.get("details") or []:
        if not isinstance(detail, dict):
            continue
        if detail.get("@type") == _FCM_ERROR_TYPE:
            fcm_code = str(detail.get("errorCode") or "") or None
        elif detail.get("@type") == _BAD_REQUEST_TYPE:
            violations += [str(v.get("field", "")) for v in detail.get("fieldViolations") or []]
    return fcm_code, str(error.get("status") or ""), violations, str(error.get("message") or "")
