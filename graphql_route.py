"""The GraphQL route: strawberry's ASGI view with the checks that come before it.

Before strawberry reads a byte: the declared size of an upload (413), CSRF for
multipart requests a browser form could send (400), and the bearer token (401,
or a Viewer in the request's state). While the body streams: the size limit
again, and the request's shape (`graphql_request`). After execution: every error
through `schema.errors.client_error`, and HTTP 503 with Retry-After when one says
the server is busy (UNAVAILABLE). Whatever is refused is answered with a GraphQL
error body, never plain text.
"""

from __future__ import annotations

from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult

from auth.errors import InvalidToken, VerifierUnavailable
from auth.viewer import TokenVerifier, Viewer
from errors import Unavailable
from graphiql_page import content_security_policy
from graphql_request import JSON_TYPES, decode_json, decode_request, place_files
from media import Media
from resolvers.context import RequestContext
from resolvers.cursors import CursorCodec
from schema import build_schema
from schema.errors import client_error
from schema.query_limits import refused_before_execution
from settings import Settings
from store.port import Store
from tasks.enqueue import Tasks
from tasks.runlog import RunLog


class GraphQLRoute(GraphQL[RequestContext, None]):
    def __init__(
        self,
        store: Store,
        settings: Settings,
        verifier: TokenVerifier,
        media: Media,
        tasks: Tasks,
        runs: RunLog | None = None,
    ) -> None:
        super().__init__(
            build_schema(settings.query_limits, introspection=not settings.is_production),
            graphql_ide="graphiql" if settings.graphiql and not settings.is_production else None,
            allow_queries_via_get=True,
            multipart_uploads_enabled=True,
        )
        self._store = store
        self._cursors = CursorCodec(settings.secret_key)
        self._verifier = verifier
        # Absolute URLs point at the configured origin, never at the request's Host.
        self._media = media.for_origin(settings.web.public_origin or "")
        self._suggestions = not settings.is_production
        self._tasks = tasks
        self._runs = runs
        self._max_upload = settings.media.max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = upload_refusal(headers, self._max_upload)
        if refusal is None:
            viewer_or_refusal = await authenticate(self._verifier, headers)
            if isinstance(viewer_or_refusal, Response):
                refusal = viewer_or_refusal
            else:
                scope.setdefault("state", {})["viewer"] = viewer_or_refusal
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        # As strawberry's own __call__, plus the body limit and closing the uploads.
        limit = _body_limit(headers, self._max_upload)
        request = Request(scope, receive=limit_body(receive, limit))
        try:
            response = await self.run(request)
        except HTTPException as error:
            response = _bad_request(error.status_code, error.reason, scope["method"])
        except StarletteHTTPException as error:  # the form parser's
            response = _bad_request(error.status_code, error.detail, scope["method"])
        except BodyTooLarge:
            response = _too_large(headers, self._max_upload)
        finally:
            await request.close()  # uploaded files are temporary files: delete them now
        await response(scope, receive, send)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if result.errors:
            result.errors = [
                client_error(error, suggestions=self._suggestions) for error in result.errors
            ]
        return await super().process_result(request, result)

    async def render_graphql_ide(self, request: Request) -> Response:
        html = self.graphql_ide_html
        return HTMLResponse(
            html, headers={"Content-Security-Policy": content_security_policy(html)}
        )

    def decode_json(self, data: str | bytes) -> dict[str, Any]:
        return decode_request(data)

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        if request.method == "POST":
            media_type, _ = parse_content_type(request.content_type or "")
            if media_type not in JSON_TYPES:
                raise HTTPException(
                    415,
                    "Send the operation as application/json "
                    "(or multipart/form-data to upload a file).",
                )
        data = await super().parse_http_body(request)
        assert not isinstance(data, list)  # decode_json refuses batches
        return data

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> dict[str, Any]:
        try:
            form = await request.get_form_data()
        except ValueError:
            raise HTTPException(400, "The multipart body cannot be parsed.") from None
        operations, files_map = (form.form.get(name, "{}") for name in ("operations", "map"))
        if not isinstance(operations, str | bytes) or not isinstance(files_map, str | bytes):
            raise HTTPException(400, "`operations` and `map` must be form fields, not files.")
        return place_files(decode_request(operations), decode_json(files_map), form.files)

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        try:
            return await super().execute_single(*args, **kwargs)
        except HTTPException as error:
            if isinstance(error.__cause__, InvalidOperationTypeError):
                raise HTTPException(
                    405, "A GET request may only read; send mutations by POST."
                ) from error
            raise

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        retry_after = busy_retry_after(response_data)
        if retry_after is not None:
            sub_response.status_code = 503
            sub_response.headers["Retry-After"] = str(retry_after)
        response = super().create_response(response_data, sub_response)
        if isinstance(response_data, dict) and refused_before_execution(response_data):
            response.status_code = 400
        return response

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        viewer = request.scope.get("state", {}).get("viewer")
        return RequestContext(
            store=self._store,
            cursors=self._cursors,
            viewer=viewer,
            tasks=self._tasks,
            runs=self._runs,
            media=self._media,
        )


def busy_retry_after(response: GraphQLHTTPResponse | list[GraphQLHTTPResponse]) -> int | None:
    """When an error says the server is busy (errors.Unavailable), the longest wait
    any of them asks for: the answer is then HTTP 503 with that Retry-After."""
    waits: list[int] = []
    for single in response if isinstance(response, list) else [response]:
        for error in single.get("errors") or []:
            extensions = error.get("extensions") if isinstance(error, dict) else None
            if isinstance(extensions, dict) and extensions.get("code") == Unavailable.code:
                waits.append(int(extensions.get("retryAfterSeconds", RETRY_AFTER_SECONDS)))
    return max(waits, default=None)


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


def _is_multipart(headers: Headers) -> bool:
    media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    return media_type == "multipart/form-data"


def _body_limit(headers: Headers, max_upload: int) -> int:
    """Only an upload may be large: any other body is a document (at most
    TIMELINE_MAX_QUERY_BYTES) and its variables, refused long before it could cost
    the time and memory of decoding megabytes of JSON."""
    return max_upload + _FORM_ALLOWANCE if _is_multipart(headers) else _JSON_BODY_LIMIT


def _too_large(headers: Headers, max_upload: int) -> JSONResponse:
    limit = _body_limit(headers, max_upload)
    if _is_multipart(headers):
        message = f"an image can be at most {max_upload // (1024 * 1024)} MiB"
    else:
        message = f"a request without a file can be at most {limit // 1024} KiB"
    return _refusal(
        413, f"The request is too large: {message}.", "PAYLOAD_TOO_LARGE", maxBytes=str(limit)
    )


def upload_refusal(headers: Headers, max_upload: int) -> JSONResponse | None:
    """413 when the declared length is over the limit (before reading a byte), 400
    for a multipart request that a browser form could have sent (CSRF)."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > _body_limit(headers, max_upload):
        return _too_large(headers, max_upload)
    if not _is_multipart(headers):
        return None
    if any(headers.get(name, "").strip() for name in _PREFLIGHT_HEADERS):
        return None
    if headers.get("authorization", "").lower().startswith("bearer "):
        return None
    return _refusal(
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
RETRY_AFTER_SECONDS = 5


def _refusal(status: int, message: str, code: str, **extra: str) -> JSONResponse:
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    elif status == 503:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": code, **extra}}]}
    return JSONResponse(body, status_code=status, headers=headers)


_REFUSAL_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


def _bad_request(status: int, message: str, method: str) -> JSONResponse:
    response = _refusal(status, message, _REFUSAL_CODES.get(status, "BAD_REQUEST"))
    if status == 405:
        response.headers["Allow"] = "POST" if method == "GET" else "GET, POST"
    return response


async def authenticate(verifier: TokenVerifier, headers: Headers) -> Viewer | JSONResponse | None:
    authorization = headers.get("authorization")
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _refusal(
            401,
            "Send the token as `Authorization: Bearer <token>`.",
            "UNAUTHENTICATED",
            reason="malformed",
        )
    try:
        return await verifier.verify(token.strip())
    except InvalidToken as error:
        return _refusal(
            401,
            "The sign-in token is not valid; sign in again.",
            "UNAUTHENTICATED",
            reason=error.reason,
        )
    except VerifierUnavailable:
        return _refusal(
            503, "Sign-in cannot be checked right now; try again shortly.", "SERVICE_UNAVAILABLE"
        )
