"""The embedded queue's own connection to the embedded store's SQLite file.

The queue keeps its tables (`task_queue`, `task_runs`) in the same WAL file as the
store, so one file holds all local state, but on a connection of its own. Every
statement runs on one dedicated thread: SQLite admits one writer at a time anyway,
the event loop never waits on the disk, and no two statements interleave on the
connection.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from store.sqlite_faults import sqlite_errors
from store.sqlite_files import open_wal

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS task_queue (
    name TEXT PRIMARY KEY,
    named INTEGER NOT NULL,
    queue TEXT NOT NULL,
    handler TEXT NOT NULL,
    payload BLOB NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'leased', 'done', 'failed')),
    eta REAL NOT NULL,
    created_at REAL NOT NULL,
    first_attempt_at REAL,
    lease_token TEXT,
    lease_until REAL,
    retry_count INTEGER NOT NULL DEFAULT 0,
    execution_count INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER,
    last_error TEXT,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS task_queue_due ON task_queue(queue, state, eta);
CREATE INDEX IF NOT EXISTS task_queue_leases ON task_queue(state, lease_until);
CREATE INDEX IF NOT EXISTS task_queue_finished ON task_queue(state, finished_at);
CREATE TABLE IF NOT EXISTS task_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    queue TEXT,
    task_name TEXT,
    attempt INTEGER NOT NULL,
    status TEXT NOT NULL,
    started_at REAL NOT NULL,
    duration_ms REAL NOT NULL,
    error TEXT
);
CREATE INDEX IF NOT EXISTS task_runs_by_status ON task_runs(status, id);
"""


class TaskDatabase:
    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None

    @property
    def _thread(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="task-db")
        return self._executor

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._call, work)

    def run_blocking(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """For command-line tools and tests, which have no event loop to keep free."""
        return self._thread.submit(self._call, work).result()

    def _call(self, work: Callable[[sqlite3.Connection], T]) -> T:
        # A full or read-only disk is StoreUnavailable here too, never a bare OperationalError.
        with sqlite_errors(self.path):
            if self._conn is None:
                self._conn = _connect(self.path)
            return work(self._conn)

    def close(self) -> None:
        """Close the connection and its thread; a later call opens them again."""
        executor, self._executor = self._executor, None
        if executor is None:
            return

        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        executor.submit(shut).result()
        executor.shutdown(wait=True)


def _connect(path: str) -> sqlite3.Connection:
    conn = open_wal(path)
    conn.executescript(_SCHEMA)
    return conn


def write(conn: sqlite3.Connection, work: Callable[[], T]) -> T:
    """Run `work` in one write transaction (taken at once, so it never upgrades)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work()
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result
