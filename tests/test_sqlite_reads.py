"""Quick reads (a few keys, one indexed page) run on the event loop's own
connection, and never make the loop wait: when SQLite is busy they go to a reader
thread, which waits out the lock while the loop serves everything else."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

from store.keys import Key
from store.port import Entity, Query
from store.sqlite import SQLiteStore
from store.sqlite_db import SQLiteDatabase

KEY = Key.of("User", "a")


def where(conn: sqlite3.Connection) -> tuple[str, int]:
    """The thread a read ran on, and how long its connection would wait for a lock."""
    conn.execute("SELECT count(*) FROM entities").fetchone()
    (busy_timeout,) = conn.execute("PRAGMA busy_timeout").fetchone()
    return threading.current_thread().name, busy_timeout


async def test_quick_reads_run_here_and_never_wait_for_a_lock(tmp_path: Path) -> None:
    store = SQLiteStore(SQLiteDatabase(tmp_path / "t.db", busy_timeout_ms=5_000))
    await store.put_many([Entity(KEY, {"sort_key": "1"})])
    assert await store.database.read(where, quick=True) == (threading.current_thread().name, 0)
    assert await store.database.read(where) == ("sqlite-read_0", 5_000)
    assert await store.get_many([KEY]) == [Entity(KEY, {"sort_key": "1"})]
    assert len(await store.page(Query(kind="User", order_by="sort_key"), limit=5)) == 1
    await store.close()


async def test_a_quick_read_of_a_locked_file_waits_off_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    store = SQLiteStore(SQLiteDatabase(path, busy_timeout_ms=5_000))
    await store.put_many([Entity(KEY, {"n": 1})])
    await store.close()  # its connections let go of the file (they open again on use)
    # Another connection holds the file exclusively: readers get SQLITE_BUSY.
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("UPDATE entities SET props = props")
    read = asyncio.create_task(store.get_many([KEY]))
    waits = asyncio.create_task(store.database.read(where, quick=True))
    await asyncio.sleep(0.2)  # the loop runs: the reads did not block it
    assert not read.done()  # still waiting for the lock, on a reader thread
    holder.execute("COMMIT")
    holder.close()
    assert await read == [Entity(KEY, {"n": 1})]
    assert (await waits)[0].startswith("sqlite-read")
    await store.close()
