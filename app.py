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

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from auth.dev_tokens import key_path_in
from auth.errors import InvalidToken, VerifierUnavailable
from auth.verifiers import build_verifier
from auth.viewer import TokenVerifier, Viewer
from resolvers.context import RequestContext
from resolvers.cursors import CursorCodec
from schema import build_schema
from schema.errors import client_error
from settings import Settings, load_settings
from store.port import Store
from tasks.enqueue import Tasks
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
        self, store: Store, settings: Settings, verifier: TokenVerifier, tasks: Tasks
    ) -> None:
        super().__init__(
            build_schema(max_depth=settings.max_query_depth),
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
        )
        self._store = store
        self._cursors = CursorCodec(settings.secret_key)
        self._verifier = verifier
        self._tasks = tasks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            viewer_or_refusal = await authenticate(self._verifier, Headers(scope=scope))
            if isinstance(viewer_or_refusal, Response):
                await viewer_or_refusal(scope, receive, send)
                return
            scope.setdefault("state", {})["viewer"] = viewer_or_refusal
        await super().__call__(scope, receive, send)

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
            store=self._store, cursors=self._cursors, viewer=viewer, tasks=self._tasks
        )


# A request without a token goes on as nobody (fields that need a viewer say
# UNAUTHENTICATED). A request with a bad token is refused whole with 401, so a
# client whose session expired finds out at once instead of seeing signed-out data.
RETRY_AFTER_SECONDS = 5


def _refusal(status: int, message: str, code: str, **extra: str) -> JSONResponse:
    headers = (
        {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        if status == 401
        else {"Retry-After": str(RETRY_AFTER_SECONDS)}
    )
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


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> Starlette:
    settings = settings or load_settings()
    store = store or make_store(settings)
    # Background work: the task queue, the guarded /_internal/ routes, the workers.
    tasks = TaskRuntime.from_settings(settings, store)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.demo_data:
            from demo import seed_demo_data

            await seed_demo_data(store)
        try:
            async with tasks.running(app):
                yield
        finally:
            await store.close()

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    graphql = GraphQLRoute(store, settings, make_verifier(settings), tasks.tasks)
    routes: list[Any] = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/healthz", health),
        tasks.mount,
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.settings = settings
    app.state.store = store
    app.state.tasks = tasks
    return app


def __getattr__(name: str) -> Starlette:
    # Built on first access, so importing this module (in tests, in tools) reads
    # no environment and opens no store.
    if name == "app":
        instance = create_app()
        globals()["app"] = instance
        return instance
    raise AttributeError(name)
