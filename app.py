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
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from auth.dev_tokens import key_path_in
from auth.verifiers import build_verifier
from auth.viewer import TokenVerifier
from cache.wiring import cached_store
from graphql_route import GraphQLRoute
from media import BlobStore
from media.local_blobs import LocalBlobStore
from media.routes import media_route
from media.wiring import blob_store_from_settings, media_from_settings
from push import PushSender
from push.wiring import push_from_settings
from request_limits import RequestLimits
from security_headers import SecurityHeaders
from settings import Settings, load_settings
from store.port import Store
from store.sqlite_db import SQLiteDatabase, shared_database
from tasks.runtime import QueueLayer, TaskRuntime

log = logging.getLogger("timeline.app")


def make_store(settings: Settings, database: SQLiteDatabase) -> Store:
    if settings.store == "datastore":
        from store.datastore import DatastoreStore

        return DatastoreStore(settings.datastore_project, namespace=settings.datastore_namespace)
    from store.sqlite import SQLiteStore

    return SQLiteStore(database)


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
    queue_layer: QueueLayer | None = None,
) -> Starlette:
    settings = settings or load_settings()
    # The embedded file's one access layer (a single writer thread, a reader pool),
    # shared by the store, the task queue and the push outbox; opened on first use.
    database = shared_database(settings.sqlite_path)
    # Read through the cache (if on); every write, a task's too, invalidates after its commit.
    store = cached_store(store or make_store(settings, database), settings)
    blobs = blobs or blob_store_from_settings(settings)
    media = media_from_settings(settings, blobs)
    push = push or push_from_settings(settings, database)
    # Background work: the task queue, the guarded /_internal/ routes, the workers.
    tasks = TaskRuntime.from_settings(
        settings, store, blobs=blobs, push=push, database=database, queue_layer=queue_layer
    )

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
        # Every method reaches the route, which refuses the others with a GraphQL body.
        Route("/graphql", graphql),
        Route("/healthz", health),
        tasks.mount,
    ]
    if isinstance(blobs, LocalBlobStore):
        routes.append(media_route(blobs))
    app = Starlette(routes=routes, lifespan=lifespan, middleware=web_middleware(settings))
    app.state.settings = settings
    app.state.store = store
    app.state.tasks = tasks
    app.state.blobs = blobs
    app.state.media = media
    app.state.push = push
    return app


# Apollo's web client sends these; the preflight ones prove a request is not a form (CSRF).
CORS_HEADERS = [
    "authorization",
    "content-type",
    "apollo-require-preflight",
    "x-apollo-operation-name",
]


def web_middleware(settings: Settings) -> list[Middleware]:
    """Outermost first: every answer gets the security headers, CORS preflights too."""
    middleware = [Middleware(SecurityHeaders, hsts=settings.is_production)]
    if settings.web.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.web.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=CORS_HEADERS,
                max_age=600,
            )
        )
    middleware.append(
        Middleware(
            RequestLimits,
            max_header_bytes=settings.web.max_header_bytes,
            body_seconds=settings.web.body_timeout_seconds,
        )
    )
    return middleware


def __getattr__(name: str) -> Starlette:
    # Built on first access, so importing this module (in tests, in tools) reads
    # no environment and opens no store.
    if name == "app":
        instance = create_app()
        globals()["app"] = instance
        return instance
    raise AttributeError(name)
