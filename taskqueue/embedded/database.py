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

import sqlite3
import weakref
from pathlib import Path

from store.sqlite_db import SQLiteDatabase, shared_database
from store.sqlite_write_txn import execute_script

_SCHEMA = """
CREATE TABLE IF NOT EXISTS task_queue (
    name TEXT PRIMARY KEY,
    named INTEGER NOT NULL,
    queue TEXT NOT NULL,
    handler TEXT NOT NULL,
    payload BLOB NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'leased', 'done', 'failed', 'deleted')),
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
CREATE TABLE IF NOT EXISTS paused_queues (
    queue TEXT PRIMARY KEY,
    paused_at REAL NOT NULL
);
"""
_migrated: weakref.WeakSet[SQLiteDatabase] = weakref.WeakSet()


def task_database(file: Path | str | SQLiteDatabase) -> SQLiteDatabase:
    """The file's access layer (the process's shared one for a path), with the
    queue's tables in place."""
    database = file if isinstance(file, SQLiteDatabase) else shared_database(file)
    database.ensure_schema(_SCHEMA)
    if database not in _migrated:
        database.write_blocking(_allow_deleted_state)
        _migrated.add(database)
    return database


def _allow_deleted_state(conn: sqlite3.Connection) -> None:
    """A file made before task admin existed checks `state` against four values; SQLite
    cannot alter a CHECK, so the table is copied into its new shape, once."""
    (sql,) = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'task_queue'"
    ).fetchone()
    if "'deleted'" in sql:
        return
    conn.execute("ALTER TABLE task_queue RENAME TO task_queue_before_admin")
    for (index,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' "
        "AND tbl_name = 'task_queue_before_admin' AND sql IS NOT NULL"
    ).fetchall():
        conn.execute(f"DROP INDEX {index}")
    execute_script(conn, _SCHEMA)
    conn.execute("INSERT INTO task_queue SELECT * FROM task_queue_before_admin")
    conn.execute("DROP TABLE task_queue_before_admin")
