"""GraphQL over HTTP (graphql.github.io/graphql-over-http/draft/): which media type a
response is written in, and the status code that goes with what it says.

- `application/graphql-response+json` when the Accept header ranks it highest: a
  request error (the document does not parse or validate, the variables do not
  coerce: execution never started, so no error has a `path`) is HTTP 400 and its
  body has no `data` entry; once execution started the answer is 200.
- `application/json` for everyone else (no Accept header, `*/*`, older Apollo
  clients): HTTP 200 for anything GraphQL itself says, as before.
- In both, a document refused as sent (over a query limit, several operations and
  no operationName) is 400, and UNAVAILABLE is 503 with Retry-After.
- An Accept header that admits neither type is answered 406 (in application/json).

Every refusal before execution (`RequestRefused`, and the route's own checks) is a
GraphQL error body in the negotiated type, never plain text.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import JSONResponse, Response

from errors import BadRequest, DocumentTooLarge, QueryTooComplex, Unavailable

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
_SUPPORTED = (GRAPHQL_RESPONSE, JSON)
RETRY_AFTER_SECONDS = 5  # when a busy answer does not say how long to wait
_REFUSAL_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
# Request errors answered 400 whichever type was asked for: the request must change.
REFUSED_AS_SENT = frozenset({DocumentTooLarge.code, QueryTooComplex.code, BadRequest.code})


class RequestRefused(Exception):
    """Refused before execution: answered with `status` and a GraphQL error body."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str,
        *,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = dict(headers or {})
        self.extensions = extensions


@functools.lru_cache(maxsize=64)  # clients send a few Accept headers; ranking one is not cheap
def negotiate(accept: str | None) -> str | None:
    """The supported type the Accept header ranks highest (by q, then by how
    specifically it is named, then by order), or None when it admits neither."""
    if accept is None or not accept.strip():
        return JSON  # the spec's legacy default for a client that does not say
    best: tuple[float, int, int] | None = None
    chosen: str | None = None
    for index, (media_range, quality) in enumerate(_ranges(accept)):
        for media_type in _SUPPORTED:
            specificity = _matches(media_range, media_type)
            if specificity and quality > 0:
                # `*/*` and `application/*` mean application/json, as the spec asks.
                if specificity < 3 and media_type == GRAPHQL_RESPONSE:
                    continue
                rank = (quality, specificity, -index)
                if best is None or rank > best:
                    best, chosen = rank, media_type
    return chosen


def is_request_error(body: Mapping[str, object]) -> bool:
    """Execution never started: no data, and no error belongs to a field."""
    errors = body.get("errors")
    return (
        body.get("data") is None
        and isinstance(errors, list)
        and bool(errors)
        and all("path" not in error for error in errors)
    )


def status_and_body(
    body: Mapping[str, object], media_type: str
) -> tuple[int, Mapping[str, object]]:
    """The status for a GraphQL response body, and the body as that type writes it."""
    if not is_request_error(body):
        return 200, body
    errors: list[dict[str, Any]] = body["errors"]  # type: ignore[assignment]
    codes = {(error.get("extensions") or {}).get("code") for error in errors}
    status = 400 if media_type == GRAPHQL_RESPONSE or codes & REFUSED_AS_SENT else 200
    if media_type == GRAPHQL_RESPONSE:
        body = {key: value for key, value in body.items() if key != "data"}
    return status, body


def graphql_response(body: Mapping[str, object], media_type: str) -> Response:
    """A GraphQL response body, written in the negotiated type with its status."""
    status, body = status_and_body(body, media_type)
    headers = {}
    retry_after = busy_retry_after(body)
    if retry_after is not None:
        status = 503
        headers["Retry-After"] = str(retry_after)
    return Response(encode(body), status_code=status, headers=headers, media_type=media_type)


def encode(body: object) -> bytes | str:
    # orjson writes a page in a tenth of the json module's time; it refuses
    # what JSON cannot hold exactly (an int past 64 bits), which json writes.
    try:
        return orjson.dumps(body)
    except TypeError:
        return json.dumps(body, separators=(",", ":"))


def busy_retry_after(body: Mapping[str, object]) -> int | None:
    """When an error says the server is busy (errors.Unavailable), the longest wait
    any of them asks for: the answer is then HTTP 503 with that Retry-After."""
    waits: list[int] = []
    errors = body.get("errors")
    for error in errors if isinstance(errors, list) else []:
        extensions = error.get("extensions") if isinstance(error, dict) else None
        if isinstance(extensions, dict) and extensions.get("code") == Unavailable.code:
            waits.append(int(extensions.get("retryAfterSeconds", RETRY_AFTER_SECONDS)))
    return max(waits, default=None)


def bad_request_response(status: int, message: str, method: str, media_type: str) -> Response:
    """A request strawberry's view or the form parser refused, as a GraphQL error."""
    code = _REFUSAL_CODES.get(status, "BAD_REQUEST")
    response = error_response(status, message, code, media_type)
    if status == 405:
        response.headers["Allow"] = "POST" if method == "GET" else "GET, POST"
    return response


def error_response(
    status: int,
    message: str,
    code: str,
    media_type: str | None,
    *,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """A refusal as a GraphQL error body; application/json keeps its `data: null`
    for the clients that read it, graphql-response+json has no data entry."""
    error = {"message": message, "extensions": {"code": code, **extensions}}
    body: dict[str, Any] = {"errors": [error]}
    if media_type != GRAPHQL_RESPONSE:
        body = {"data": None, **body}
    return JSONResponse(
        body, status_code=status, headers=dict(headers or {}), media_type=media_type or JSON
    )


def refused_response(refused: RequestRefused, media_type: str | None) -> JSONResponse:
    return error_response(
        refused.status,
        refused.message,
        refused.code,
        media_type,
        headers=refused.headers,
        **refused.extensions,
    )


def _ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        media_range, *parameters = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media_range:
            ranges.append((media_range.lower(), quality))
    return ranges


def _matches(media_range: str, media_type: str) -> int:
    """3 for the type itself, 2 for `application/*`, 1 for `*/*`, 0 for no match."""
    if media_range == media_type:
        return 3
    if media_range == media_type.split("/")[0] + "/*":
        return 2
    return 1 if media_range == "*/*" else 0
