"""Transport: the Starlette app, its GraphQL route and its lifespan.

`create_app(settings)` builds everything from settings, choosing the adapters in
this one place; `app` is the module-level instance that uvicorn and App Engine
serve.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Tracer
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from auth.dev_tokens import key_path_in
from auth.verifiers import build_verifier
from auth.viewer import TokenVerifier
from cache.wiring import cached_store, past_the_cache
from clock import Clock, system_clock
from graphiql import ASSETS_PATH, GraphiQLAssets
from graphiql.assets import NODE_MODULES
from graphql_context import Contexts
from graphql_route import GraphQLRoute
from mail.port import MailSender
from mail.routes import unsubscribe_route
from mail.wiring import mail_from_settings, unsubscribe_links
from media import BlobStore
from media.local_blobs import LocalBlobStore
from media.routes import media_route
from media.wiring import blob_store_from_settings, media_from_settings
from observability.middleware import RequestObservation
from observability.traced_store import TracedStore
from observability.tracing import app_tracer, tracer_provider_from_settings
from push import PushSender
from push.wiring import push_from_settings
from request_limits import RequestLimits
from resolvers.upload_records import UploadRecords
from security_headers import SecurityHeaders
from settings import Settings, load_settings
from store.health import store_problem
from store.port import Store
from store.sqlite import SQLiteStore
from store.sqlite_db import SQLiteDatabase, shared_database
from store.sqlite_integrity import check_store_file, mark_store_file
from store.sqlite_lock import claim_file
from tasks.counters import fold_legacy_shards_at_start
from tasks.outbox import Relays
from tasks.runtime import QueueLayer, TaskRuntime

log = logging.getLogger("timeline.app")


def make_store(settings: Settings, database: SQLiteDatabase) -> Store:
    return open_store(settings, database)[0]


def open_store(
    settings: Settings, database: SQLiteDatabase, clock: Clock = system_clock
) -> tuple[Store, bool]:
    """The store chosen by settings, and whether it is brand new (never held data).
    An embedded file that held data and is now missing, empty or damaged is refused
    (StoreFileDamaged), never made again."""
    if settings.store == "datastore":
        from store.datastore import DatastoreStore

        store = DatastoreStore(settings.datastore_project, namespace=settings.datastore_namespace)
        return store, False
    file = check_store_file(settings.sqlite_path)  # before the file is opened (or made)
    sqlite = SQLiteStore(database)
    mark_store_file(settings.sqlite_path, is_new=file.is_new, clock=clock)
    return sqlite, file.is_new


def embedded_files(settings: Settings, store: Store, tasks: TaskRuntime) -> list[Path]:
    """The SQLite files this process runs on, which it claims (store/sqlite_lock.py)."""
    files = {Path(store.path).resolve()} if isinstance(store, SQLiteStore) else set()
    if tasks.workers is not None or tasks.scheduler is not None:
        files.add(settings.sqlite_path.resolve())
    return sorted(path for path in files if path.name != ":memory:")


def make_verifier(settings: Settings, clock: Clock = system_clock) -> TokenVerifier:
    return build_verifier(
        dev_tokens_key=key_path_in(settings.var_dir) if settings.auth.dev_tokens else None,
        firebase_project=settings.auth.firebase_project,
        firebase_certs_url=settings.auth.firebase_certs_url,
        clock=clock,
    )


def create_app(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    blobs: BlobStore | None = None,
    push: PushSender | None = None,
    mail: MailSender | None = None,
    queue_layer: QueueLayer | None = None,
    node_modules: Path = NODE_MODULES,
    tracer_provider: TracerProvider | None = None,
    clock: Clock = system_clock,
    direct_graphql: bool = True,
) -> Starlette:
    """`tracer_provider`: where spans go, whatever TIMELINE_TRACING says (tests
    give one with an in-memory exporter). `clock`: what time it is for requests,
    tasks, cron, tokens and the store file's marker (tests give a fixed or stepping
    one). `direct_graphql`:
    known queries skip strawberry's view (graphql_direct.py; off in a test that
    compares the two paths)."""
    settings = settings or load_settings()
    # The embedded file's one access layer (a single writer thread, a reader pool),
    # shared by the store, the task queue and the push outbox; opened on first use.
    database = shared_database(settings.sqlite_path)
    seed_demo = settings.demo_data  # into a given store: the caller asked for it
    if store is None:
        store, is_new = open_store(settings, database, clock)
        # Never over an embedded store that held data; on Datastore (the emulator, as
        # production refuses demo data) seeding only adds what is missing.
        seed_demo = seed_demo and (is_new or settings.store == "datastore")
    uncached = store
    own_provider = tracer_provider is None
    provider = tracer_provider or tracer_provider_from_settings(settings.observability)
    tracer = app_tracer(provider) if provider is not None else None
    if tracer is not None:  # a span per round trip: beneath the cache, which saves some
        store = TracedStore(store, tracer)
    # Requests read through the cache (if on), background work past it; every write,
    # a task's too, invalidates after its commit.
    store = cached_store(store, settings)
    blobs = blobs or blob_store_from_settings(settings)
    media = media_from_settings(settings, blobs)
    push = push or push_from_settings(settings, database, clock)
    mailing = mail_from_settings(settings, database, sender=mail, clock=clock)  # None: off
    # Background work: the task queue, the guarded /_internal/ routes, the workers.
    tasks = TaskRuntime.from_settings(
        settings,
        past_the_cache(store),  # tasks and cron jobs act on what they read
        blobs=blobs,
        push=push,
        mail=mailing,
        database=database,
        queue_layer=queue_layer,
        clock=clock,
    )

    # Mutations answer once committed; their follow-ups reach the queue after, unless
    # the embedded workers are too far behind (then the answers wait for them).
    backlog = tasks.workers.backlog if tasks.workers is not None else None
    relays = Relays(store, tasks.tasks, backlog=backlog)
    upload_records = UploadRecords(store, clock)  # this process's, written ahead

    # Other processes may serve from the same embedded file unless this one keeps a
    # cache of it in its own memory, which their writes would leave stale.
    shares_file = settings.cache.backend != "memory"
    tasks_file = settings.sqlite_path.resolve()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            with contextlib.ExitStack() as held:
                claims = [
                    held.enter_context(claim_file(path, shared=shares_file))
                    for path in embedded_files(settings, uncached, tasks)
                ]
                # One process leads the tasks' file: it alone runs background work.
                leader = next((c for c in claims if c.path == tasks_file), None)
                leader = leader or (claims[0] if claims else None)
                # Counts read one entity each now: shards an older version left
                # pending are folded into it before this process answers anyone.
                await fold_legacy_shards_at_start(store, clock())
                if seed_demo and (leader is None or leader.leads):
                    from demo import seed_demo_data

                    await seed_demo_data(store, media)
                async with tasks.running(app, leader):
                    try:
                        yield
                    finally:  # before the queue and the store close
                        await upload_records.close()
                        await relays.close()
        finally:
            await push.close()
            if mailing is not None:
                await mailing.sender.close()
            await store.close()
            if own_provider and provider is not None:
                provider.shutdown()  # exports the spans still batched

    async def health(request: Request) -> Response:
        problem = await store_problem(store, within=settings.web.health_timeout_seconds)
        if problem is not None:
            return JSONResponse({"status": "unavailable", "cause": problem}, status_code=503)
        return JSONResponse({"status": "ok"})

    # GraphiQL (local mode only) with its files from node_modules, never from a CDN.
    ide = settings.graphiql and not settings.is_production
    graphiql = GraphiQLAssets.installed(node_modules) if ide else None
    verifier = make_verifier(settings, clock)
    contexts = Contexts.for_origin(
        settings.web.public_origin,
        settings.secret_key,
        store=store,
        media=media,
        tasks=tasks.tasks,
        clock=clock,
        relays=relays,
        runs=tasks.runs,
        upload_records=upload_records,
    )
    route = functools.partial(
        GraphQLRoute, settings, verifier, tracer=tracer, direct=direct_graphql
    )
    graphql = route(contexts, graphiql=graphiql)
    admin = route(dataclasses.replace(contexts, task_admin=tasks.admin), admin=True)
    routes: list[Any] = [
        # Every method reaches the route, which refuses the others with a GraphQL body.
        Route("/graphql", graphql),
        Route("/admin/graphql", admin),
        Route("/healthz", health),
        tasks.mount,
        unsubscribe_route(store, unsubscribe_links(settings), clock),
    ]
    if graphiql is not None:
        routes.append(Route(ASSETS_PATH + "/{path:path}", graphiql.serve, methods=["GET"]))
    if isinstance(blobs, LocalBlobStore):
        routes.append(media_route(blobs))
    app = Starlette(routes=routes, lifespan=lifespan, middleware=web_middleware(settings, tracer))
    app.state.settings = settings
    app.state.store = store
    app.state.tasks = tasks
    app.state.relays = relays  # tests settle them before they look at the queue
    app.state.upload_records = upload_records
    app.state.blobs = blobs
    app.state.media = media
    app.state.push = push
    app.state.mail = mailing
    app.state.seed_demo = seed_demo  # whether its lifespan seeds demo data (serve.py)
    return app


# Apollo's web client sends these; the preflight ones prove a request is not a form (CSRF).
CORS_HEADERS = [
    "authorization",
    "content-type",
    "apollo-require-preflight",
    "x-apollo-operation-name",
]


def web_middleware(settings: Settings, tracer: Tracer | None = None) -> list[Middleware]:
    """Outermost first: every request is logged (and traced) with its id, and every
    answer gets the security headers, CORS preflights too."""
    middleware = [
        Middleware(
            RequestObservation,
            tracer=tracer,
            add_headers=SecurityHeaders(hsts=settings.is_production).added_to,
        ),
    ]
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
