"""The checks the GraphQL route makes before strawberry reads a byte: the declared
size of an upload (413), CSRF for multipart requests a browser form could send
(400), the bearer token (401, or a Viewer), and the body limit while the body
streams. Each refusal is a `RequestRefused`, which the route answers with a GraphQL
error body in the negotiated media type.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope

from auth.errors import InvalidToken, VerifierUnavailable
from auth.viewer import TokenVerifier, Viewer
from graphql_media import RETRY_AFTER_SECONDS, RequestRefused

# The operations and map fields of a multipart request travel with the file.
_FORM_ALLOWANCE = 64 * 1024
# A JSON (or GET) request: a document and its variables (captions, comments).
_JSON_BODY_LIMIT = 256 * 1024
# Browsers post multipart forms across sites without a CORS preflight. A header no
# form can set proves the request went through CORS (Apollo iOS and Kotlin send
# X-Apollo-Operation-Name by default; web clients add Apollo-Require-Preflight).
_PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-apollo-operation-name")


class BodyTooLarge(Exception):
    """The request body went past the limit while it was being read."""


class IndexedHeaders(Headers):
    """A request's headers for a route that reads several of them: decoded once into
    a dict (the first of each name, as Headers answers), and a missing one found
    without raising KeyError, as Mapping.get does."""

    def __init__(self, scope: Scope) -> None:
        super().__init__(scope=scope)
        self._index = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in reversed(self._list)
        }

    def get(self, key: str, default: Any = None) -> Any:
        return self._index.get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        value = self._index.get(key.lower())
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: Any) -> bool:
        return key.lower() in self._index


def _is_multipart(headers: Headers) -> bool:
    media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    return media_type == "multipart/form-data"


def body_limit(headers: Headers, max_upload: int) -> int:
    """Only an upload may be large: any other body is a document (at most
    TIMELINE_MAX_QUERY_BYTES) and its variables, refused long before it could cost
    the time and memory of decoding megabytes of JSON."""
    return max_upload + _FORM_ALLOWANCE if _is_multipart(headers) else _JSON_BODY_LIMIT


def too_large(headers: Headers, max_upload: int) -> RequestRefused:
    limit = body_limit(headers, max_upload)
    if _is_multipart(headers):
        message = f"an image can be at most {max_upload // (1024 * 1024)} MiB"
    else:
        message = f"a request without a file can be at most {limit // 1024} KiB"
    return RequestRefused(
        413, f"The request is too large: {message}.", "PAYLOAD_TOO_LARGE", maxBytes=str(limit)
    )


def upload_refusal(headers: Headers, max_upload: int) -> RequestRefused | None:
    """413 when the declared length is over the limit (before reading a byte), 400
    for a multipart request that a browser form could have sent (CSRF)."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > body_limit(headers, max_upload):
        return too_large(headers, max_upload)
    if not _is_multipart(headers):
        return None
    if any(headers.get(name, "").strip() for name in _PREFLIGHT_HEADERS):
        return None
    if headers.get("authorization", "").lower().startswith("bearer "):
        return None
    return RequestRefused(
        400,
        "Multipart requests need a header a browser form cannot send: "
        "`Apollo-Require-Preflight: true`, `X-Apollo-Operation-Name` or a bearer token.",
        "CSRF_REFUSED",
    )


def limit_body(receive: Receive, max_bytes: int) -> Receive:
    """`receive` that raises BodyTooLarge once more than `max_bytes` have arrived,
    for bodies whose length was not declared (or was declared falsely)."""
    received = 0

    async def limited() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_bytes:
                raise BodyTooLarge
        return message

    return limited


# A request without a token goes on as nobody (fields that need a viewer say
# UNAUTHENTICATED). A request with a bad token is refused whole with 401, so a
# client whose session expired finds out at once instead of seeing signed-out data.
_INVALID_TOKEN = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


async def authenticate(verifier: TokenVerifier, headers: Headers) -> Viewer | RequestRefused | None:
    authorization = headers.get("authorization")
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return RequestRefused(
            401,
            "Send the token as `Authorization: Bearer <token>`.",
            "UNAUTHENTICATED",
            headers=_INVALID_TOKEN,
            reason="malformed",
        )
    try:
        return await verifier.verify(token.strip())
    except InvalidToken as error:
        return RequestRefused(
            401,
            "The sign-in token is not valid; sign in again.",
            "UNAUTHENTICATED",
            headers=_INVALID_TOKEN,
            reason=error.reason,
        )
    except VerifierUnavailable:
        return RequestRefused(
            503,
            "Sign-in cannot be checked right now; try again shortly.",
            "SERVICE_UNAVAILABLE",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
