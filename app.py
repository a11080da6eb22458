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
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from resolvers.context import RequestContext
from resolvers.cursors import CursorCodec
from schema import build_schema
from schema.errors import client_error
from settings import Settings, load_settings
from store.port import Store

log = logging.getLogger("timeline.app")


def make_store(settings: Settings) -> Store:
    if settings.store == "datastore":
        from store.datastore import DatastoreStore

        return DatastoreStore(settings.datastore_project, namespace=settings.datastore_namespace)
    from store.sqlite import SQLiteStore

    return SQLiteStore(settings.sqlite_path)


class GraphQLRoute(GraphQL[RequestContext, None]):
    def __init__(self, store: Store, settings: Settings) -> None:
        super().__init__(
            build_schema(max_depth=settings.max_query_depth),
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
        )
        self._store = store
        self._cursors = CursorCodec(settings.secret_key)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if result.errors:
            result.errors = [client_error(error) for error in result.errors]
        return await super().process_result(request, result)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        return RequestContext(store=self._store, cursors=self._cursors)


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> Starlette:
    settings = settings or load_settings()
    store = store or make_store(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.demo_data:
            from demo import seed_demo_data

            await seed_demo_data(store)
        try:
            yield
        finally:
            await store.close()

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    graphql = GraphQLRoute(store, settings)
    routes: list[Any] = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/healthz", health),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.settings = settings
    app.state.store = store
    return app


def __getattr__(name: str) -> Starlette:
    # Built on first access, so importing this module (in tests, in tools) reads
    # no environment and opens no store.
    if name == "app":
        instance = create_app()
        globals()["app"] = instance
        return instance
    raise AttributeError(name)
