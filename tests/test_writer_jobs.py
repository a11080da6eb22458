"""Jobs on the embedded file's one writer (store/sqlite_db.py): the background's
small writes share jobs (store/sqlite_batches.py), and a request's write runs on
the event loop's own thread when the writer is idle. Counted in writer jobs and
threads, never in milliseconds."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from store.sqlite_batches import WriteBatches
from store.sqlite_db import SQLiteDatabase, writes_in_background
from taskqueue.embedded.database import task_database
from taskqueue.embedded.queue import EmbeddedQueue
from taskqueue.port import TaskRequest
from taskqueue.runlog import Run, SQLiteRunLog

PIECES = 50


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[SQLiteDatabase]:
    instance = task_database(SQLiteDatabase(tmp_path / "timeline.db"))
    yield instance
    instance.close()


async def _writer_held(database: SQLiteDatabase) -> tuple[asyncio.Future[None], threading.Event]:
    """A job that keeps the writer busy until the event is set, as a burst of
    request commits would."""
    running, release = threading.Event(), threading.Event()

    def hold(_: sqlite3.Connection) -> None:
        running.set()
        release.wait()

    async def on_the_writer() -> None:
        writes_in_background()  # an idle writer's caller would run it in its own thread
        await database.write(hold)

    held = asyncio.ensure_future(on_the_writer())
    await asyncio.to_thread(running.wait)
    return held, release


async def test_enqueues_and_run_lines_that_wait_for_the_writer_share_one_job(
    database: SQLiteDatabase,
) -> None:
    queue, runs = EmbeddedQueue(database), SQLiteRunLog(database)
    held, release = await _writer_held(database)
    before = database.write_jobs
    now = datetime.now(UTC)
    adds = [queue.add(TaskRequest("h", b"{}", name=f"t{n}")) for n in range(PIECES)]
    lines = [
        runs.record(Run("task", "h", "default", f"t{n}", 1, "done", now, 1.0))
        for n in range(PIECES)
    ]
    waiting = asyncio.gather(*adds, *lines)
    await asyncio.sleep(0)  # every piece is submitted before the writer is free
    release.set()
    await held
    results = await waiting
    assert all(result is not None and result.created for result in results[:PIECES])
    # One job for all hundred pieces, after the held one (each was a job of its own).
    assert database.write_jobs - before == 1
    assert len(await runs.recent(limit=500)) == PIECES
    assert len(await queue.pending("default", 500)) == PIECES


async def test_a_lone_piece_is_written_at_once(database: SQLiteDatabase) -> None:
    batches = WriteBatches(database)
    before = database.write_jobs
    assert await batches.write(lambda conn: conn.execute("SELECT 7").fetchone()[0]) == 7
    assert database.write_jobs - before == 1


async def test_a_failing_piece_is_undone_alone(database: SQLiteDatabase) -> None:
    database.write_blocking(lambda conn: conn.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
    batches = WriteBatches(database)
    held, release = await _writer_held(database)

    def fails(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO t VALUES (1)")
        conn.execute("INSERT INTO t VALUES (1)")  # the primary key refuses it

    first = asyncio.ensure_future(batches.write(lambda c: c.execute("INSERT INTO t VALUES (0)")))
    failing = asyncio.ensure_future(batches.write(fails))
    last = asyncio.ensure_future(batches.write(lambda c: c.execute("INSERT INTO t VALUES (2)")))
    await asyncio.sleep(0)
    release.set()
    await held
    await first
    with pytest.raises(sqlite3.IntegrityError):
        await failing
    await last
    assert batches.jobs == 1
    rows = await database.read(lambda conn: conn.execute("SELECT n FROM t ORDER BY n").fetchall())
    assert rows == [(0,), (2,)]


def _thread(_: sqlite3.Connection) -> int:
    return threading.get_ident()


async def test_a_request_write_runs_here_when_the_writer_is_idle(
    database: SQLiteDatabase,
) -> None:
    assert await database.write(_thread) == threading.get_ident()

    async def in_background() -> int:
        writes_in_background()
        return await database.write(_thread)

    assert await asyncio.create_task(in_background()) != threading.get_ident()


async def test_a_request_write_queues_while_the_writer_is_busy(database: SQLiteDatabase) -> None:
    held, release = await _writer_held(database)
    queued = asyncio.ensure_future(database.write(_thread))
    await asyncio.sleep(0)
    assert not queued.done()
    release.set()
    await held
    assert await queued != threading.get_ident()


async def test_a_write_lock_held_by_another_process_never_blocks_the_loop(
    database: SQLiteDatabase,
) -> None:
    other = sqlite3.connect(database.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # as another server process's writer would
    try:
        waiting = asyncio.ensure_future(database.write(_thread))
        await asyncio.sleep(0.05)  # the loop runs on while the writer waits for the lock
        assert not waiting.done()
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert await waiting != threading.get_ident()
