"""The embedded queue: tasks as rows of `task_queue` in the embedded SQLite file.

A row's life: `queued` (waiting for its eta) -> `leased` (a worker is delivering it;
the lease is renewed while the handler runs and expires if the process dies, which
puts the task back) -> `done`, or back to `queued` with a later eta on failure, or
`failed` once its retry limits are exhausted. Failed rows are kept so that they
can be inspected (`python -m taskqueue.runs --tasks failed`). An admin may delete a
queued or leased task (`deleted`, taskqueue/embedded/admin.py); a paused queue's
tasks stay `queued` and are not claimed.

Dedup: the name is the primary key. A finished or deleted named task keeps its
row (without its payload) for DEDUP_WINDOW, during which the same name cannot be added again.
Nine days, because that is how long App Engine refuses a reused name on queues
created from queue.yaml, so code that leans on dedup behaves alike in both places.
Unnamed tasks get a random name and their row is deleted once they are done.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from clock import system_seconds
from store.sqlite_batches import shared_batches
from store.sqlite_db import SQLiteDatabase
from taskqueue.embedded import admin
from taskqueue.port import EnqueueResult, PendingTask, PurgeResult, TaskQueue, TaskRequest

DEDUP_WINDOW = timedelta(days=9)
# A paused queue's tasks are neither claimed nor waited for (taskqueue/embedded/admin.py).
NOT_PAUSED = "NOT EXISTS (SELECT 1 FROM paused_queues WHERE paused_queues.queue = task_queue.queue)"
Wake = Callable[[str], None]


@dataclass(frozen=True)
class LeasedTask:
    name: str
    named: bool
    queue: str
    handler: str
    payload: bytes
    eta: float
    retry_count: int
    execution_count: int
    first_attempt_at: float
    lease_token: str


@dataclass(frozen=True)
class TaskRow:
    """A task as `python -m taskqueue.runs --tasks` shows it."""

    name: str
    queue: str
    handler: str
    state: str
    eta: float
    retry_count: int
    last_status: int | None
    last_error: str | None


class EmbeddedQueue(TaskQueue):
    """The TaskQueue and TaskQueueAdmin ports over `task_queue`; workers deliver
    what it adds."""

    def __init__(
        self,
        db: SQLiteDatabase,
        *,
        wake: Wake | None = None,
        clock: Callable[[], float] = system_seconds,
        dedup_window: timedelta = DEDUP_WINDOW,
    ) -> None:
        self._db = db
        self._batches = shared_batches(db)  # a relay's enqueues share writer jobs
        self._wake = wake
        self._clock = clock
        self._dedup_seconds = dedup_window.total_seconds()

    async def add(self, request: TaskRequest) -> EnqueueResult:
        name = request.name or f"auto-{secrets.token_hex(12)}"
        now = self._clock()
        eta = request.eta.timestamp() if request.eta is not None else now
        row = (name, request.name is not None, request.queue, request.handler, request.payload)
        cutoff = now - self._dedup_seconds
        created = await self._batches.write(lambda conn: insert(conn, row, eta, now, cutoff))
        if created and self._wake is not None:
            self._wake(request.queue)
        return EnqueueResult(name, created)

    async def pending(self, queue: str, limit: int) -> list[PendingTask]:
        return await self._db.read(lambda conn: admin.pending(conn, queue, limit))

    async def delete(self, queue: str, name: str) -> bool:
        now = self._clock()
        return await self._db.write(lambda conn: admin.delete(conn, queue, name, now))

    async def purge(self, queue: str) -> PurgeResult:
        now = self._clock()
        return await self._db.write(lambda conn: admin.purge(conn, queue, now))

    async def pause(self, queue: str) -> None:
        now = self._clock()
        await self._db.write(lambda conn: admin.pause(conn, queue, now))

    async def resume(self, queue: str) -> None:
        await self._db.write(lambda conn: admin.resume(conn, queue))
        if self._wake is not None:
            self._wake(queue)  # workers in other processes notice within their poll

    async def is_paused(self, queue: str) -> bool:
        return await self._db.read(lambda conn: admin.is_paused(conn, queue))


def insert(
    conn: sqlite3.Connection,
    row: tuple[str, bool, str, str, bytes],
    eta: float,
    now: float,
    reuse_before: float,
) -> bool:
    """Add a queued task; a name already present counts as added only if its row
    finished before `reuse_before` (outside the dedup window)."""
    cursor = conn.execute(
        "INSERT INTO task_queue(name, named, queue, handler, payload, state, eta, created_at) "
        "VALUES (?, ?, ?, ?, ?, 'queued', ?, ?) "
        "ON CONFLICT(name) DO UPDATE SET named = excluded.named, queue = excluded.queue, "
        "handler = excluded.handler, payload = excluded.payload, state = 'queued', "
        "eta = excluded.eta, created_at = excluded.created_at, first_attempt_at = NULL, "
        "lease_token = NULL, lease_until = NULL, retry_count = 0, execution_count = 0, "
        "last_status = NULL, last_error = NULL, finished_at = NULL "
        "WHERE task_queue.state IN ('done', 'failed', 'deleted') AND task_queue.finished_at < ?",
        (*row, eta, now, reuse_before),
    )
    return cursor.rowcount == 1


def claim(
    conn: sqlite3.Connection, queue: str, limit: int, now: float, lease_until: float
) -> list[LeasedTask]:
    token = secrets.token_hex(8)
    rows = conn.execute(
        "UPDATE task_queue SET state = 'leased', lease_token = ?, lease_until = ?, "
        "first_attempt_at = COALESCE(first_attempt_at, ?) "
        "WHERE rowid IN (SELECT rowid FROM task_queue WHERE queue = ? AND state = 'queued' "
        f"AND eta <= ? AND {NOT_PAUSED} ORDER BY eta LIMIT ?) "
        "RETURNING name, named, queue, handler, payload, eta, retry_count, "
        "execution_count, first_attempt_at",
        (token, lease_until, now, queue, now, limit),
    ).fetchall()
    tasks = [
        LeasedTask(
            name, bool(named), queue, handler, payload, eta, retries, executions, first, token
        )
        for name, named, queue, handler, payload, eta, retries, executions, first in rows
    ]
    return sorted(tasks, key=lambda task: task.eta)


def renew(conn: sqlite3.Connection, tasks: Sequence[LeasedTask], lease_until: float) -> None:
    conn.executemany(
        "UPDATE task_queue SET lease_until = ? WHERE name = ? AND lease_token = ?",
        [(lease_until, task.name, task.lease_token) for task in tasks],
    )


def finish(conn: sqlite3.Connection, done: Sequence[LeasedTask], now: float) -> None:
    """Mark delivered tasks done: named ones stay as dedup tombstones, others go."""
    conn.executemany(
        "UPDATE task_queue SET state = 'done', payload = x'', finished_at = ?, "
        "lease_token = NULL, lease_until = NULL, last_status = 200, last_error = NULL "
        "WHERE name = ? AND lease_token = ?",
        [(now, task.name, task.lease_token) for task in done if task.named],
    )
    conn.executemany(
        "DELETE FROM task_queue WHERE name = ? AND lease_token = ?",
        [(task.name, task.lease_token) for task in done if not task.named],
    )


def retry_later(
    conn: sqlite3.Connection,
    task: LeasedTask,
    eta: float,
    status: int | None,
    error: str,
    executed: bool,
) -> None:
    conn.execute(
        "UPDATE task_queue SET state = 'queued', eta = ?, retry_count = retry_count + 1, "
        "execution_count = execution_count + ?, last_status = ?, last_error = ?, "
        "lease_token = NULL, lease_until = NULL WHERE name = ? AND lease_token = ?",
        (eta, int(executed), status, error, task.name, task.lease_token),
    )


def give_up(
    conn: sqlite3.Connection, task: LeasedTask, now: float, status: int | None, error: str
) -> None:
    conn.execute(
        "UPDATE task_queue SET state = 'failed', finished_at = ?, last_status = ?, "
        "last_error = ?, lease_token = NULL, lease_until = NULL "
        "WHERE name = ? AND lease_token = ?",
        (now, status, error, task.name, task.lease_token),
    )


def release(conn: sqlite3.Connection, tasks: Sequence[LeasedTask]) -> None:
    """Hand leased tasks back untouched (shutdown): they run again, not counted as a try."""
    conn.executemany(
        "UPDATE task_queue SET state = 'queued', lease_token = NULL, lease_until = NULL "
        "WHERE name = ? AND lease_token = ?",
        [(task.name, task.lease_token) for task in tasks],
    )


def renew_and_reclaim(
    conn: sqlite3.Connection, leased: Sequence[LeasedTask], now: float, lease_until: float
) -> list[str]:
    """Renew this process's leases, then put back the expired ones of others: in one
    write, so a task whose worker still runs here is never taken for dead here."""
    renew(conn, leased, lease_until)
    return reclaim_expired(conn, now)


def reclaim_expired(conn: sqlite3.Connection, now: float) -> list[str]:
    """Queue again the tasks whose lease ran out (their process died or hung);
    that delivery counts as a try, as a dispatch deadline does on Cloud Tasks."""
    rows = conn.execute(
        "UPDATE task_queue SET state = 'queued', eta = ?, retry_count = retry_count + 1, "
        "last_error = 'lease expired: the worker died or stalled', "
        "lease_token = NULL, lease_until = NULL "
        "WHERE state = 'leased' AND lease_until <= ? RETURNING queue",
        (now, now),
    ).fetchall()
    return sorted({queue for (queue,) in rows})


def purge_finished(conn: sqlite3.Connection, before: float) -> int:
    """Forget done and deleted tasks whose dedup window has closed (failed ones stay
    visible)."""
    return conn.execute(
        "DELETE FROM task_queue WHERE state IN ('done', 'deleted') AND finished_at < ?", (before,)
    ).rowcount


def count_due(conn: sqlite3.Connection, queue: str, now: float, most: int) -> int:
    """Due tasks of `queue` waiting to be claimed, counted up to `most` (an index range)."""
    (count,) = conn.execute(
        "SELECT COUNT(*) FROM (SELECT 1 FROM task_queue WHERE queue = ? AND state = 'queued' "
        f"AND eta <= ? AND {NOT_PAUSED} LIMIT ?)",
        (queue, now, most),
    ).fetchone()
    return int(count)


def next_eta(conn: sqlite3.Connection, queue: str) -> float | None:
    row = conn.execute(
        f"SELECT MIN(eta) FROM task_queue WHERE queue = ? AND state = 'queued' AND {NOT_PAUSED}",
        (queue,),
    ).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def list_tasks(conn: sqlite3.Connection, state: str | None, limit: int) -> list[TaskRow]:
    where, params = ("WHERE state = ?", [state]) if state else ("", [])
    rows = conn.execute(
        "SELECT name, queue, handler, state, eta, retry_count, last_status, last_error "
        f"FROM task_queue {where} ORDER BY eta DESC LIMIT ?",
        [*params, limit],
    ).fetchall()
    return [TaskRow(*row) for row in rows]
