"""The embedded file's one writer: no transaction blocks another across an await,
optimistic transactions conflict per entity, and the file's own pools keep
working when asyncio's default executor is full."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from store.errors import StoreUnavailable, TransactionConflict
from store.keys import Key
from store.port import Entity, Store, Transaction
from store.sqlite import SQLiteStore
from store.sqlite_db import SQLiteDatabase
from store.sqlite_files import CACHE_KIB
from store.transactions import run_in_transaction
from taskqueue.embedded import queue as rows
from taskqueue.embedded.database import task_database
from taskqueue.embedded.queue import EmbeddedQueue
from taskqueue.port import TaskRequest
from tests.utils.tasks_app import effect_count, eventually, running_app

A = Key.of("User", "a")
B = Key.of("User", "b")


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[SQLiteDatabase]:
    instance = task_database(SQLiteDatabase(tmp_path / "timeline.db"))
    yield instance
    instance.close()


async def _value(store: Store, key: Key) -> object:
    [entity] = await store.get_many([key])
    assert entity is not None
    return entity.properties["n"]


async def test_a_transaction_suspended_across_an_await_blocks_no_one(
    database: SQLiteDatabase,
) -> None:
    store = SQLiteStore(database)
    queue = EmbeddedQueue(database)
    await store.put_many([Entity(A, {"n": 0}), Entity(B, {"n": 0})])
    inside, resume = asyncio.Event(), asyncio.Event()

    async def suspended_transaction() -> None:
        async with store.transaction() as tx:
            [entity] = await tx.get_many([A])
            assert entity is not None
            tx.put_many([Entity(A, {"n": 1})])
            inside.set()
            await resume.wait()  # e.g. a slow await in a resolver

    suspended = asyncio.create_task(suspended_transaction())
    await inside.wait()

    async with store.transaction() as tx:
        await tx.get_many([B])
        tx.put_many([Entity(B, {"n": 1})])
    added = await queue.add(TaskRequest("test_effect", b"{}", name="while-suspended"))
    now = time.time() + 1
    [leased] = await database.write(lambda conn: rows.claim(conn, "default", 1, now, now + 30))
    await database.write(lambda conn: rows.renew(conn, [leased], now + 60))  # a lease renewal
    values = [await _value(store, A), await _value(store, B)]

    assert not suspended.done()
    assert added.created
    assert values == [0, 1]
    resume.set()
    await suspended
    assert await _value(store, A) == 1


async def test_two_transactions_on_one_entity_one_commits_the_other_conflicts(
    database: SQLiteDatabase,
) -> None:
    store = SQLiteStore(database)
    await store.put_many([Entity(A, {"n": 0})])
    both_read = asyncio.Barrier(2)
    first_done = asyncio.Event()

    async def increment(wait_for_first: bool) -> None:
        async with store.transaction() as tx:
            [entity] = await tx.get_many([A])
            assert entity is not None
            await both_read.wait()
            if wait_for_first:
                await first_done.wait()
            tx.put_many([Entity(A, {"n": int(str(entity.properties["n"])) + 1})])
        first_done.set()

    outcomes = await asyncio.gather(increment(False), increment(True), return_exceptions=True)

    assert outcomes[0] is None
    assert isinstance(outcomes[1], TransactionConflict)
    assert await _value(store, A) == 1


async def test_run_in_transaction_retries_the_loser_and_loses_no_update(
    database: SQLiteDatabase,
) -> None:
    store = SQLiteStore(database)
    await store.put_many([Entity(A, {"n": 0}), Entity(B, {"n": 0})])
    attempts: list[int] = []

    async def increment(tx: Transaction) -> None:
        attempts.append(1)
        [entity] = await tx.get_many([A])
        assert entity is not None
        await asyncio.sleep(0)  # let the others read the same version
        tx.put_many([Entity(A, {"n": int(str(entity.properties["n"])) + 1})])

    await asyncio.gather(*(run_in_transaction(store, increment, attempts=50) for _ in range(20)))

    assert await _value(store, A) == 20
    assert len(attempts) > 20  # some lost the race and ran again
    assert await _value(store, B) == 0


async def test_reads_in_one_transaction_never_see_two_moments(database: SQLiteDatabase) -> None:
    store = SQLiteStore(database)
    await store.put_many([Entity(A, {"n": 0})])

    async def read_twice() -> None:
        async with store.transaction() as tx:
            await tx.get_many([A])
            await store.put_many([Entity(A, {"n": 1})])  # someone else writes what it read
            await tx.get_many([B])  # a later read notices: the snapshot is gone

    with pytest.raises(TransactionConflict):
        await read_twice()


async def test_a_plain_write_of_an_entity_a_transaction_read_conflicts(
    database: SQLiteDatabase,
) -> None:
    store = SQLiteStore(database)
    await store.put_many([Entity(A, {"n": 0})])

    async def overtaken() -> None:
        async with store.transaction() as tx:
            await tx.get_many([A])
            await store.delete_many([A])  # someone else deletes what it read
            tx.put_many([Entity(A, {"n": 5})])

    with pytest.raises(TransactionConflict):
        await overtaken()
    assert await store.get_many([A]) == [None]


async def test_a_plain_write_elsewhere_in_the_group_does_not_conflict(
    database: SQLiteDatabase,
) -> None:
    # Validated per entity (as Firestore in Datastore mode does), not per group: a
    # user's mutation no longer loses to a feed item written into the user's group.
    store = SQLiteStore(database)
    await store.put_many([Entity(A, {"n": 0})])

    async with store.transaction() as tx:
        await tx.get_many([A])
        await store.put_many([Entity(A.child("FeedItem", "p"), {"sort_key": "1"})])
        await store.delete_many([A.child("Photo", "p")])
        tx.put_many([Entity(A, {"n": 5})])

    assert await _value(store, A) == 5


async def test_the_files_pools_work_while_the_default_executor_is_full(
    database: SQLiteDatabase,
) -> None:
    store = SQLiteStore(database)
    queue = EmbeddedQueue(database)
    await store.put_many([Entity(A, {"n": 0})])
    loop = asyncio.get_running_loop()
    gate = threading.Event()
    # Far more blocking jobs than the default executor has threads: all of them wait.
    blockers = [loop.run_in_executor(None, gate.wait) for _ in range(200)]
    try:
        async with asyncio.timeout(60):  # only so that a regression fails, not hangs
            async with store.transaction() as tx:
                await tx.get_many([A])
                tx.put_many([Entity(A, {"n": 1})])
            await store.put_many([Entity(B, {"n": 2})])
            added = await queue.add(TaskRequest("test_effect", b"{}", name="executor-full"))
            values = [await _value(store, A), await _value(store, B)]
        assert not any(blocker.done() for blocker in blockers)
    finally:
        gate.set()
        await asyncio.gather(*blockers)
    assert added.created
    assert values == [1, 2]


async def test_a_lock_held_by_another_process_is_unavailable_not_locked(tmp_path: Path) -> None:
    path = tmp_path / "timeline.db"
    database = SQLiteDatabase(path, busy_timeout_ms=20)
    store = SQLiteStore(database)
    await store.put_many([Entity(A, {"n": 0})])
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        with pytest.raises(StoreUnavailable) as caught:
            await store.put_many([Entity(A, {"n": 1})])
        assert caught.value.retry_after_seconds >= 1
        assert await _value(store, A) == 0  # reads go on (WAL)
    finally:
        other.execute("ROLLBACK")
        other.close()
    await store.put_many([Entity(A, {"n": 1})])
    assert await _value(store, A) == 1
    database.close()


async def test_a_failing_write_undoes_itself_and_nothing_else(database: SQLiteDatabase) -> None:
    store = SQLiteStore(database)

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO task_runs(kind, name, attempt, status, started_at, duration_ms) "
            "VALUES ('task', 'whole', 1, 'done', 0, 0)"
        )
        conn.execute("INSERT INTO task_runs(kind) VALUES ('half a row')")  # NOT NULL fails

    outcomes = await asyncio.gather(
        store.put_many([Entity(A, {"n": 1})]),
        database.write(broken),
        store.put_many([Entity(B, {"n": 2})]),
        return_exceptions=True,
    )

    assert outcomes[0] is None
    assert outcomes[2] is None
    assert isinstance(outcomes[1], sqlite3.IntegrityError)
    assert [await _value(store, A), await _value(store, B)] == [1, 2]
    assert await database.read(
        lambda conn: conn.execute("SELECT count(*) FROM task_runs").fetchone()
    ) == (0,)


async def test_twenty_racing_increments_lose_no_update_on_either_store(store: Store) -> None:
    await store.put_many([Entity(A, {"n": 0})])

    async def increment(tx: Transaction) -> None:
        [entity] = await tx.get_many([A])
        assert entity is not None
        tx.put_many([Entity(A, {"n": int(str(entity.properties["n"])) + 1})])

    await asyncio.gather(*(run_in_transaction(store, increment, attempts=50) for _ in range(20)))

    assert await _value(store, A) == 20


@pytest.mark.slow  # the task runs 3 s of real time, through six renewals of its lease
async def test_a_live_task_keeps_its_lease_while_transactions_wait_on_awaits(
    tmp_path: Path,
) -> None:
    # Leases of 1.5 s, renewed every 0.5 s; the task runs for 3 s, twice a lease, through
    # six renewals, while store transactions sit suspended mid-way (they once held the
    # write lock). A renewal may come up to a second late (a busy machine running the
    # suite in parallel) and the lease still holds.
    async with running_app(tmp_path, lease_seconds=1.5) as harness:
        release = asyncio.Event()

        async def suspended(n: int) -> None:
            async with harness.store.transaction() as tx:
                await tx.get_many([Key.of("User", f"held{n}")])
                tx.put_many([Entity(Key.of("User", f"held{n}"), {"n": n})])
                await release.wait()

        held = [asyncio.create_task(suspended(n)) for n in range(5)]
        await harness.tasks.enqueue("test_effect", {"key": "long", "seconds": 3.0}, name="long")

        async def finished() -> bool:
            # Its run recorded and its row finished too: both come after the effect.
            if await effect_count(harness.store, "long") != 1:
                return False
            if not any(run.task_name == "long" for run in await harness.runs()):
                return False
            return [row.state for row in await harness.task_rows()] == ["done"]

        await eventually(finished, within=30, what="the long task to finish")
        release.set()
        await asyncio.gather(*held)
        [row] = await harness.task_rows()
        runs = await harness.runs()

    assert [(run.attempt, run.status) for run in runs if run.task_name == "long"] == [(1, "done")]
    assert (row.state, row.retry_count) == ("done", 0)


async def test_every_connection_keeps_a_page_cache_the_size_of_a_busy_file(
    database: SQLiteDatabase,
) -> None:
    # SQLite's default of 2 MiB a connection: once the file outgrew it, the same
    # feed page cost more server CPU after a few minutes of load than before.
    def cache_kib(conn: sqlite3.Connection) -> int:
        (size,) = conn.execute("PRAGMA cache_size").fetchone()
        return -int(size)

    assert await database.write(cache_kib) == CACHE_KIB
    assert await database.read(cache_kib) == CACHE_KIB
    assert await database.read(cache_kib, quick=True) == CACHE_KIB
    assert CACHE_KIB >= 32 * 1024
