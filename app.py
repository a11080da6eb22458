"""Transport: the Starlette app, its GraphQL route and its lifespan.

`create_app(settings)` builds everything from settings, choosing the adapters in
this one place; `app` is the module-level instance that uvicorn and App Engine
serve.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from auth.dev_tokens import key_path_in
from auth.errors import InvalidToken, VerifierUnavailable
from auth.verifiers import build_verifier
from auth.viewer import TokenVerifier, Viewer
from media import BlobStore, Media
from media.local_blobs import LocalBlobStore
from media.routes import media_route
from media.wiring import blob_store_from_settings, media_from_settings
from push import PushSender
from push.wiring import push_from_settings
from resolvers.context import RequestContext
from resolvers.cursors import CursorCodec
from schema import build_schema
from schema.errors import client_error
from settings import Settings, load_settings
from store.port import Store
from tasks.enqueue import Tasks
from tasks.runlog import RunLog
from tasks.runtime import TaskRuntime

log = logging.getLogger("timeline.app")


def make_store(settings: Settings) -> Store:
    if settings.store == "datastore":
        from store.datastore import DatastoreStore

        return DatastoreStore(settings.datastore_project, namespace=settings.datastore_namespace)
    from store.sqlite import SQLiteStore

    return SQLiteStore(settings.sqlite_path)


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
            build_schema(max_depth=settings.max_query_depth),
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
            multipart_uploads_enabled=True,
        )
        self._store = store
        self._cursors = CursorCodec(settings.secret_key)
        self._verifier = verifier
        self._media = media
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
        request = Request(scope, receive=limit_body(receive, _body_limit(self._max_upload)))
        try:
            response = await self.run(request)
        except HTTPException as error:
            response = PlainTextResponse(error.reason, status_code=error.status_code)
        except BodyTooLarge:
            response = _too_large(self._max_upload)
        finally:
            await request.close()  # uploaded files are temporary files: delete them now
        await response(scope, receive, send)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if result.errors:
            result.errors = [client_error(error) for error in result.errors]
        return await super().process_result(request, result)

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
            media=self._media.for_origin(str(request.base_url)),
        )


# The operations and map fields of a multipart request travel with the file.
_FORM_ALLOWANCE = 64 * 1024
# Browsers post multipart forms across sites without a CORS preflight. A header no
# form can set proves the request went through CORS (Apollo iOS and Kotlin send
# X-Apollo-Operation-Name by default; web clients add Apollo-Require-Preflight).
_PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-apollo-operation-name")


class BodyTooLarge(Exception):
    """The request body went past the limit while it was being read."""


def _body_limit(max_upload: int) -> int:
    return max_upload + _FORM_ALLOWANCE


def _too_large(max_upload: int) -> JSONResponse:
    return _refusal(
        413,
        f"The request is too large: an image can be at most {max_upload // (1024 * 1024)} MiB.",
        "PAYLOAD_TOO_LARGE",
        maxBytes=str(_body_limit(max_upload)),
    )


def upload_refusal(headers: Headers, max_upload: int) -> JSONResponse | None:
    """413 when the declared length is over the limit (before reading a byte), 400
    for a multipart request that a browser form could have sent (CSRF)."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > _body_limit(max_upload):
        return _too_large(max_upload)
    media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "multipart/form-data":
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


def make_verifier(settings: Settings) -> TokenVerifier:
    return build_verifier(
        dev_tokens_key=key_path_in(settings.var_dir) if settings.auth.dev_tokens else None,
        firebase_project=settings.auth.firebase_project,
        firebase_certs_url=settings.auth.firebase_certs_url,
    )


def create_app(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    blobs: BlobStore | None = None,
    push: PushSender | None = None,
) -> Starlette:
    settings = settings or load_settings()
    store = store or make_store(settings)
    blobs = blobs or blob_store_from_settings(settings)
    media = media_from_settings(settings, blobs)
    push = push or push_from_settings(settings)
    # Background work: the task queue, the guarded /_internal/ routes, the workers.
    tasks = TaskRuntime.from_settings(settings, store, blobs=blobs, push=push)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.demo_data:
            from demo import seed_demo_data

            await seed_demo_data(store, media)
        try:
            async with tasks.running(app):
                yield
        finally:
            await push.close()
            await store.close()

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    graphql = GraphQLRoute(
        store, settings, make_verifier(settings), media, tasks.tasks, runs=tasks.runs
    )
    routes: list[Any] = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/healthz", health),
        tasks.mount,
    ]
    if isinstance(blobs, LocalBlobStore):
        routes.append(media_route(blobs))
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.settings = settings
    app.state.store = store
    app.state.tasks = tasks
    app.state.blobs = blobs
    app.state.push = push
    return app


def __getattr__(name: str) -> Starlette:
    # Built on first access, so importing this module (in tests, in tools) reads
    # no environment and opens no store.
    if name == "app":
        instance = create_app()
        globals()["app"] = instance
        return instance
    raise AttributeError(name)
