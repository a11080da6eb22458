"""The real app in process, through httpx: the `client` fixture's, and for tests
whose settings differ from it (production, a certificate endpoint, CORS), over the
embedded store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import httpx
from starlette.applications import Starlette

from app import create_app
from clock import Clock
from settings import Settings
from store.port import Store
from store.sqlite import SQLiteStore
from taskqueue.port import TaskQueue
from tasks.runtime import QueueLayer
from tests.utils.draining import SkippingClock


@asynccontextmanager
async def app_client(
    settings: Settings,
    store: Store | None = None,
    *,
    clock: Clock | None = None,
    queue_layer: QueueLayer | None = None,
    direct_graphql: bool = True,
) -> AsyncIterator[httpx.AsyncClient]:
    """`clock`: a `SkippingClock` unless given (`drain` skips the waits for etas);
    `queue_layer`: wraps the task queue port (a test's refusing or gated queue);
    `direct_graphql`: off, every query takes strawberry's view (graphql_direct.py)."""
    store = store or SQLiteStore(settings.sqlite_path)
    app = create_app(
        settings,
        store=store,
        clock=clock or SkippingClock(),
        queue_layer=queue_layer,
        direct_graphql=direct_graphql,
    )
    async with serving(app) as http:
        yield http


@asynccontextmanager
async def serving(
    app: Starlette, base_url: str = "http://testserver"
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of `app`, in process, while the app's lifespan runs."""
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url) as http,
    ):
        yield http


Q = TypeVar("Q", bound=TaskQueue)


@asynccontextmanager
async def app_over_queue(
    settings: Settings, store: Store, wrap: Callable[[TaskQueue], Q]
) -> AsyncIterator[tuple[httpx.AsyncClient, Q]]:
    """The app with its task queue port wrapped by `wrap` (a test's refusing or gated
    queue), and the wrapper."""
    wrapped: list[Q] = []

    def layer(inner: TaskQueue) -> TaskQueue:
        wrapped.append(wrap(inner))
        return wrapped[0]

    async with app_client(settings, store, queue_layer=layer) as http:
        yield http, wrapped[0]
