"""The background's small writes share jobs on the embedded file's one writer
(store/sqlite_batches.py): counted in writer jobs, never in milliseconds."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from store.sqlite_batches import WriteBatches
from store.sqlite_db import SQLiteDatabase
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

    held = asyncio.ensure_future(database.write(hold))
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
