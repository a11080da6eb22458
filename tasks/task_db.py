"""The embedded queue's tables in the embedded store's SQLite file.

The queue keeps its tables (`task_queue`, `task_runs`, and the scheduler's
`cron_slots`) in the same WAL file as the store, so one file holds all local
state, and reaches them through the file's one access layer
(store/sqlite_db.py): every write runs on its single writer thread inside one
write transaction, every read on its reader pool. A lease renewal therefore never
waits behind a store transaction's awaits, and never meets `database is locked`
from this process.
"""

from __future__ import annotations

from pathlib import Path

from store.sqlite_db import SQLiteDatabase, shared_database

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


def task_database(file: Path | str | SQLiteDatabase) -> SQLiteDatabase:
    """The file's access layer (the process's shared one for a path), with the
    queue's tables in place."""
    database = file if isinstance(file, SQLiteDatabase) else shared_database(file)
    database.ensure_schema(_SCHEMA)
    return database
