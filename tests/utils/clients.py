"""The real app in process over the embedded store, for tests whose settings differ
from the `client` fixture's (production, a certificate endpoint, CORS)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from app import create_app
from settings import Settings
from store.sqlite import SQLiteStore


@asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, store=SQLiteStore(settings.sqlite_path))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http,
    ):
        yield http
