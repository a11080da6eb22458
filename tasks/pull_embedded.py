"""The pull queue in the embedded SQLite file: table `pull_tasks`.

A row is available when its `lease_until` has passed (0 for a task never leased);
leasing sets `lease_until` and a fresh `lease_token` on up to n available rows in
one `UPDATE .. RETURNING`, run by the file's single writer inside BEGIN IMMEDIATE.
SQLite's write lock makes that statement atomic against every other connection,
in this process or another, so two workers never hold one task at once. Expiry
needs no sweeper: an expired lease is simply available again. Ack, extend and
release match on the lease token, so a worker whose lease ran out (and whose task
someone else now holds) changes nothing.

A separate worker process opens the file through its own `SQLiteDatabase` and
takes no lock of the server's (store/sqlite_lock.py decides which server process
runs the workers and the scheduler, so that they never run twice); its writes wait on
SQLite's lock through the busy timeout, as short as the server's own jobs.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable, Sequence

from clock import system_seconds
from store.sqlite_db import SQLiteDatabase
from tasks.pull_port import Leased, PullTask, check_lease

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pull_tasks (
    name TEXT NOT NULL UNIQUE,
    tag TEXT NOT NULL,
    payload BLOB NOT NULL,
    created_at REAL NOT NULL,
    lease_until REAL NOT NULL DEFAULT 0,
    lease_token TEXT,
    leases INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS pull_tasks_available ON pull_tasks(lease_until, created_at);
CREATE INDEX IF NOT EXISTS pull_tasks_by_tag ON pull_tasks(tag, lease_until, created_at)
"""
_COLUMNS = "name, tag, payload, leases"


class EmbeddedPullQueue:
    """The PullQueue port over `pull_tasks`."""

    def __init__(self, db: SQLiteDatabase, *, clock: Callable[[], float] = system_seconds) -> None:
        self._db = db
        self._clock = clock
        db.ensure_schema(_SCHEMA)

    async def add_many(self, tasks: Sequence[PullTask]) -> int:
        rows = [
            (task.name or f"auto-{secrets.token_hex(12)}", task.tag, task.payload) for task in tasks
        ]
        now = self._clock()
        return await self._db.write(lambda conn: _insert(conn, rows, now))

    async def lease(self, n: int, seconds: float, tag: str | None = None) -> list[Leased]:
        check_lease(n, seconds)
        now = self._clock()
        return await self._db.write(lambda conn: _lease(conn, n, now, now + seconds, tag))

    async def ack(self, leased: Sequence[Leased]) -> None:
        held = [(task.name, task.lease_id) for task in leased]
        if held:
            await self._db.write(
                lambda conn: conn.executemany(
                    "DELETE FROM pull_tasks WHERE name = ? AND lease_token = ?", held
                )
            )

    async def extend(self, leased: Sequence[Leased], seconds: float) -> None:
        check_lease(1, seconds)
        now = self._clock()
        held = [(now + seconds, task.name, task.lease_id, now) for task in leased]
        if held:
            await self._db.write(
                lambda conn: conn.executemany(
                    "UPDATE pull_tasks SET lease_until = ? "
                    "WHERE name = ? AND lease_token = ? AND lease_until > ?",
                    held,
                )
            )

    async def release(self, leased: Sequence[Leased]) -> None:
        held = [(task.name, task.lease_id) for task in leased]
        if held:
            await self._db.write(
                lambda conn: conn.executemany(
                    "UPDATE pull_tasks SET lease_until = 0, lease_token = NULL "
                    "WHERE name = ? AND lease_token = ?",
                    held,
                )
            )

    async def pending(self, tag: str | None = None) -> int | None:
        def count(conn: sqlite3.Connection) -> int:
            if tag is None:
                row = conn.execute("SELECT count(*) FROM pull_tasks").fetchone()
            else:
                row = conn.execute(
                    "SELECT count(*) FROM pull_tasks WHERE tag = ?", (tag,)
                ).fetchone()
            return int(row[0])

        return await self._db.read(count)

    async def close(self) -> None:
        """The database belongs to whoever opened it."""


def _insert(conn: sqlite3.Connection, rows: Sequence[tuple[str, str, bytes]], now: float) -> int:
    before = conn.total_changes
    conn.executemany(
        "INSERT INTO pull_tasks(name, tag, payload, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(name) DO NOTHING",
        [(*row, now) for row in rows],
    )
    return conn.total_changes - before


def _lease(
    conn: sqlite3.Connection, n: int, now: float, until: float, tag: str | None
) -> list[Leased]:
    token = secrets.token_hex(8)
    by_tag = "AND tag = ? " if tag is not None else ""
    chosen = (
        f"SELECT rowid FROM pull_tasks WHERE lease_until <= ? {by_tag}"
        "ORDER BY created_at, rowid LIMIT ?"
    )
    arguments = (now, tag, n) if tag is not None else (now, n)
    rows = conn.execute(
        f"UPDATE pull_tasks SET lease_until = ?, lease_token = ?, leases = leases + 1 "
        f"WHERE rowid IN ({chosen}) RETURNING rowid, {_COLUMNS}",
        (until, token, *arguments),
    ).fetchall()
    rows.sort(key=lambda row: row[0])  # RETURNING promises no order; rowid follows insertion
    return [Leased(name, kind, payload, leases, token) for _, name, kind, payload, leases in rows]
