"""The real app in a subprocess, on either store, started and killed (SIGKILL) by
tests at a crash point (tests/utils/crash_points.py), then started again.

    async with crash_site(store, request, tmp_path) as site:
        async with site.server("relay") as first:
            ...; first.kill()
        async with site.server("none") as second:
            await site.settle()

The servers run on the test's store (the same SQLite file, or the session's
Datastore emulator, which the `store` fixture resets for each test) with the
embedded queue in the test's directory, which the test reads as well.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from settings import Settings
from store import models
from store.datastore import DatastoreStore
from store.port import Query, Store
from store.sqlite_db import SQLiteDatabase
from tasks.embedded_queue import TaskRow, list_tasks
from tasks.outbox import OUTBOX
from tasks.task_db import task_database
from tests.test_social_background import FEED, NOTIFICATIONS
from tests.utils.accounts import bearer
from tests.utils.datastore_emulator import PROJECT_ID, DatastoreEmulator
from tests.utils.processes import ManagedServer, free_port
from tests.utils.tasks_app import eventually

ROOT = Path(__file__).resolve().parents[2]
SERVE = "from tests.utils.crash_points import main; main()"
OUTBOX_QUERY = Query(OUTBOX, order_by="sort_key", descending=False)


class Server:
    def __init__(self, var: Path, hang: str, env: dict[str, str]) -> None:
        self.port = free_port()
        environment = {
            **os.environ,
            **env,
            "PYTHONPATH": str(ROOT),
            "TIMELINE_ENV": "local",
            "TIMELINE_VAR_DIR": str(var),
            "TIMELINE_TASK_LEASE_SECONDS": "1",
            # No cron: what the restart delivers is the start-up sweep's doing.
            "TIMELINE_CRON_SCHEDULER": "0",
        }
        environment.pop("GAE_ENV", None)
        self.managed = ManagedServer(
            [sys.executable, "-c", SERVE, "--port", str(self.port), "--hang", hang],
            health_url=f"http://127.0.0.1:{self.port}/healthz",
            log_path=var / f"server-{hang}.log",
            env=environment,
        )
        self.http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}", timeout=60)

    async def __aenter__(self) -> Server:
        await asyncio.to_thread(self.managed.start)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()
        self.managed.stop()

    def kill(self) -> None:
        assert self.managed.process is not None
        os.killpg(self.managed.process.pid, signal.SIGKILL)
        self.managed.process.wait(timeout=10)

    async def graphql(self, query: str, headers: dict[str, str], **input: Any) -> Any:
        variables = {"i": input} if input else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()


@dataclass
class CrashSite:
    """What a test and the servers it starts and kills share."""

    store: Store
    var: Path
    db: SQLiteDatabase  # the embedded queue's file, as the servers keep it
    env: dict[str, str]  # how a server finds the store

    def server(self, hang: str, **env: str) -> Server:
        return Server(self.var, hang, {**self.env, **env})

    def bearer(self, user: models.User) -> dict[str, str]:
        """A dev token for `user`, signed with the servers' key in `var`."""
        settings = Settings(
            var_dir=self.var, sqlite_path=self.var / "timeline.db", secret_key=b"x" * 48
        )
        return bearer(settings, user.id)

    async def outbox_count(self) -> int:
        return len(await self.store.page(OUTBOX_QUERY, limit=500))

    async def task_rows(self) -> list[TaskRow]:
        return await self.db.read(lambda conn: list_tasks(conn, None, 10_000))

    async def notices(self, server: Server, user: models.User) -> dict[str, int]:
        body = await server.graphql(NOTIFICATIONS, self.bearer(user))
        edges = body["data"]["viewer"]["notifications"]["edges"]
        return {edge["node"]["kind"]: edge["node"]["actorCount"] for edge in edges}

    async def feed(self, server: Server, user: models.User) -> list[str]:
        body = await server.graphql(FEED, self.bearer(user))
        return [edge["node"]["caption"] for edge in body["data"]["viewer"]["feed"]["edges"]]

    async def settle(self) -> None:
        """Until the outbox is empty and every task has finished."""

        async def settled() -> bool:
            rows = await self.task_rows()
            return await self.outbox_count() == 0 and all(r.state == "done" for r in rows)

        await eventually(settled, within=60, what="the outbox to empty and the queue to drain")


@asynccontextmanager
async def crash_site(
    store: Store, request: pytest.FixtureRequest, var: Path
) -> AsyncIterator[CrashSite]:
    env = {"TIMELINE_STORE": "sqlite"}
    if isinstance(store, DatastoreStore):
        emulator: DatastoreEmulator = request.getfixturevalue("datastore_emulator")
        env = {
            "TIMELINE_STORE": "datastore",
            "TIMELINE_DATASTORE_PROJECT": PROJECT_ID,
            "DATASTORE_EMULATOR_HOST": emulator.host,
        }
    db = task_database(var / "timeline.db")
    try:
        yield CrashSite(store, var, db, env)
    finally:
        await asyncio.to_thread(db.close)
