"""Killing the server (SIGKILL) at each step between a write and its follow-up work,
then starting it again: every committed write's follow-ups happen, once in effect.

The server runs in a subprocess, on each store (the embedded file, and Datastore
through the session's emulator, which `store` resets for each test) with the
embedded queue, and with one step made to hang through a port
(tests/utils/crash_points.py), so the kill lands exactly there:

    relay       committed, outbox records written, nothing enqueued
    after-add   enqueued, outbox records not yet deleted
    feed-write  a backfill task cut off inside its handler
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from settings import Settings
from store import models, social_models
from store.datastore import DatastoreStore
from store.port import Query, Store
from store.sqlite_db import SQLiteDatabase
from tasks.embedded_queue import TaskRow, list_tasks
from tasks.outbox import OUTBOX
from tasks.task_db import task_database
from tests.test_social import ADD_COMMENT, FOLLOW, LIKE, pid, uid
from tests.test_social_background import FEED, NOTIFICATIONS
from tests.utils.accounts import bearer
from tests.utils.builders import make_photos, make_user
from tests.utils.datastore_emulator import PROJECT_ID, DatastoreEmulator
from tests.utils.processes import ManagedServer, free_port
from tests.utils.tasks_app import eventually

ROOT = Path(__file__).resolve().parents[1]
SERVE = "from tests.utils.crash_points import main; main()"
# Each test starts a server twice and waits out leases and fan-in buckets.
pytestmark = pytest.mark.slow


class Server:
    def __init__(self, var: Path, hang: str, store_env: dict[str, str]) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            **store_env,
            "PYTHONPATH": str(ROOT),
            "TIMELINE_ENV": "local",
            "TIMELINE_VAR_DIR": str(var),
            "TIMELINE_TASK_LEASE_SECONDS": "1",
            # No cron: what the restart delivers is the start-up sweep's doing.
            "TIMELINE_CRON_SCHEDULER": "0",
        }
        env.pop("GAE_ENV", None)
        self.managed = ManagedServer(
            [sys.executable, "-c", SERVE, "--port", str(self.port), "--hang", hang],
            health_url=f"http://127.0.0.1:{self.port}/healthz",
            log_path=var / f"server-{hang}.log",
            env=env,
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


@pytest.fixture
def var(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
async def db(var: Path) -> AsyncIterator[SQLiteDatabase]:
    """The embedded queue's file, as the server keeps it."""
    database = task_database(var / "timeline.db")
    yield database
    await asyncio.to_thread(database.close)


@pytest.fixture
def store_env(store: Store, request: pytest.FixtureRequest) -> dict[str, str]:
    """How the server finds the test's store: the same file, or the same emulator.
    The queue is the embedded one in `var` on both."""
    if not isinstance(store, DatastoreStore):
        return {"TIMELINE_STORE": "sqlite"}
    emulator: DatastoreEmulator = request.getfixturevalue("datastore_emulator")
    return {
        "TIMELINE_STORE": "datastore",
        "TIMELINE_DATASTORE_PROJECT": PROJECT_ID,
        "DATASTORE_EMULATOR_HOST": emulator.host,
    }


def settings_for(var: Path) -> Settings:
    """Enough settings to mint dev tokens with the server's key in `var`."""
    return Settings(var_dir=var, sqlite_path=var / "timeline.db", secret_key=b"x" * 48)


# The three mutations' outbox records: the follow folds two counters (followers,
# following) and asks for the owner's fan-in; the like and the comment fold one
# counter each and ask for the fan-in too (tasks/batching.py).
FOLLOW_UPS = 7


OUTBOX_QUERY = Query(OUTBOX, order_by="sort_key", descending=False)


async def outbox_count(store: Store) -> int:
    return len(await store.page(OUTBOX_QUERY, limit=500))


async def task_rows(db: SQLiteDatabase) -> list[TaskRow]:
    return await db.read(lambda conn: list_tasks(conn, None, 10_000))


async def notices(server: Server, user: models.User, var: Path) -> dict[str, int]:
    body = await server.graphql(NOTIFICATIONS, bearer(settings_for(var), user.id))
    edges = body["data"]["viewer"]["notifications"]["edges"]
    return {edge["node"]["kind"]: edge["node"]["actorCount"] for edge in edges}


async def feed(server: Server, user: models.User, var: Path) -> list[str]:
    body = await server.graphql(FEED, bearer(settings_for(var), user.id))
    return [edge["node"]["caption"] for edge in body["data"]["viewer"]["feed"]["edges"]]


async def settle(store: Store, db: SQLiteDatabase) -> None:
    """Until the outbox is empty and every task has finished."""

    async def settled() -> bool:
        rows = await task_rows(db)
        return await outbox_count(store) == 0 and all(r.state == "done" for r in rows)

    await eventually(settled, within=60, what="the outbox to empty and the queue to drain")


@pytest.mark.parametrize("hang", ["relay", "after-add"])
async def test_a_kill_between_commit_and_relay_loses_no_follow_up(
    store: Store, db: SQLiteDatabase, store_env: dict[str, str], var: Path, hang: str
) -> None:
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    photos = await make_photos(store, alice, 2)
    async with Server(var, hang, store_env) as first:
        as_bob = bearer(settings_for(var), bob.id)
        # Each request hangs in its relay: none is answered, all are committed.
        requests = [
            asyncio.create_task(first.graphql(FOLLOW, as_bob, userId=uid(alice))),
            asyncio.create_task(first.graphql(LIKE, as_bob, photoId=pid(photos[0]))),
            asyncio.create_task(
                first.graphql(ADD_COMMENT, as_bob, photoId=pid(photos[0]), text="hi")
            ),
        ]

        async def committed() -> bool:
            records = await store.page(OUTBOX_QUERY, limit=500)
            if len(records) < FOLLOW_UPS:
                return False
            # after-add: every record's task is in the queue (batched tasks share
            # a name, so there are fewer tasks than records).
            names = {str(r.entity.properties["name"]) for r in records}
            return hang == "relay" or names <= {r.name for r in await task_rows(db)}

        await eventually(committed, within=30, what="the writes to commit and stall")
        first.kill()
        for request in requests:
            with pytest.raises(httpx.TransportError):
                await request
        if hang == "after-add":
            stranded = await outbox_count(store)
            assert stranded == FOLLOW_UPS, "the kill should leave enqueued records behind"

    async with Server(var, "none", store_env) as second:
        await settle(store, db)
        assert await notices(second, alice, var) == {"FOLLOW": 1, "LIKE": 1, "COMMENT": 1}
        assert sorted(await feed(second, bob, var)) == sorted(p.caption for p in photos)
    rows = await task_rows(db)
    # One backfill for the one follow, however often its records were relayed.
    assert [r.handler for r in rows].count("backfill_feed") == 1
    assert {r.state for r in rows} == {"done"}


async def test_a_kill_inside_a_task_handler_runs_it_again_to_one_effect(
    store: Store, db: SQLiteDatabase, store_env: dict[str, str], var: Path
) -> None:
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    photos = await make_photos(store, alice, 3)
    async with Server(var, "feed-write", store_env) as first:
        answer = await first.graphql(FOLLOW, bearer(settings_for(var), bob.id), userId=uid(alice))
        assert answer["data"]["follow"]["errors"] == []  # acknowledged

        async def backfilling() -> bool:
            rows = await task_rows(db)
            return any(r.handler == "backfill_feed" and r.state == "leased" for r in rows)

        await eventually(backfilling, within=30, what="the backfill to hang in its handler")
        first.kill()

    async with Server(var, "none", store_env) as second:
        await settle(store, db)
        assert sorted(await feed(second, bob, var)) == sorted(p.caption for p in photos)
        assert await notices(second, alice, var) == {"FOLLOW": 1}
    edge = social_models.following_key(bob.id, alice.id)
    assert await store.get_many([edge]) != [None]  # the acknowledged write
    backfills = [r for r in await task_rows(db) if r.handler == "backfill_feed"]
    [backfill] = backfills
    assert backfill.retry_count >= 1  # cut off, then run again
