"""The real app in process, through httpx: the `client` fixture's, and for tests
whose settings differ from it (production, a certificate endpoint, CORS), over the
embedded store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from app import create_app
from clock import Clock, system_clock
from settings import Settings
from store.port import Store
from store.sqlite import SQLiteStore


@asynccontextmanager
async def app_client(
    settings: Settings, store: Store | None = None, *, clock: Clock = system_clock
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, store=store or SQLiteStore(settings.sqlite_path), clock=clock)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http,
    ):
        yield http
