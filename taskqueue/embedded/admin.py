"""Task admin on the embedded queue: the SQL behind `EmbeddedQueue`'s admin calls.

Every call is one write (or read) on the file's single writer (store/sqlite_db.py),
which also runs the workers' claims, so each takes effect between two claims:

- **Delete / purge.** A pending task (`queued` or `leased`) becomes `deleted`: a
  named one keeps its row without its payload for the dedup window, so the
  outbox's relay or sweeper cannot bring it back under the same name; an unnamed
  one goes. Its lease token is cleared, and the workers settle an attempt only
  through its lease token, so an attempt already dispatched may finish but its
  outcome changes nothing: it is not retried and not marked done.
- **Pause / resume.** A paused queue is a row of `paused_queues`, in the file, so
  it outlives restarts and every process on the file sees it. Claims skip a
  paused queue's tasks (queue.NOT_PAUSED); they stay `queued` and run,
  in eta order, once the row is gone. Attempts dispatched before the pause finish.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from taskqueue.port import PendingTask, PurgeResult

_PENDING = "state IN ('queued', 'leased')"
_DELETE_NAMED = (
    "UPDATE task_queue SET state = 'deleted', payload = x'', finished_at = ?, "
    "lease_token = NULL, lease_until = NULL, last_error = 'deleted by an admin' "
    f"WHERE queue = ? AND named = 1 AND {_PENDING}"
)
_DELETE_UNNAMED = f"DELETE FROM task_queue WHERE queue = ? AND named = 0 AND {_PENDING}"


def pending(conn: sqlite3.Connection, queue: str, limit: int) -> list[PendingTask]:
    rows = conn.execute(
        "SELECT name, queue, handler, eta, retry_count + (state = 'leased') FROM task_queue "
        f"WHERE queue = ? AND {_PENDING} ORDER BY eta, name LIMIT ?",
        (queue, limit),
    ).fetchall()
    return [
        PendingTask(name, queue, handler, datetime.fromtimestamp(eta, UTC), attempts)
        for name, queue, handler, eta, attempts in rows
    ]


def delete(conn: sqlite3.Connection, queue: str, name: str, now: float) -> bool:
    named = conn.execute(_DELETE_NAMED + " AND name = ?", (now, queue, name)).rowcount
    unnamed = conn.execute(_DELETE_UNNAMED + " AND name = ?", (queue, name)).rowcount
    return named + unnamed == 1


def purge(conn: sqlite3.Connection, queue: str, now: float) -> PurgeResult:
    running = conn.execute(
        "SELECT name FROM task_queue WHERE queue = ? AND state = 'leased' ORDER BY name", (queue,)
    ).fetchall()
    named = conn.execute(_DELETE_NAMED, (now, queue)).rowcount
    unnamed = conn.execute(_DELETE_UNNAMED, (queue,)).rowcount
    return PurgeResult(named + unnamed, tuple(name for (name,) in running))


def pause(conn: sqlite3.Connection, queue: str, now: float) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO paused_queues(queue, paused_at) VALUES (?, ?)", (queue, now)
    )


def resume(conn: sqlite3.Connection, queue: str) -> None:
    conn.execute("DELETE FROM paused_queues WHERE queue = ?", (queue,))


def is_paused(conn: sqlite3.Connection, queue: str) -> bool:
    row = conn.execute("SELECT 1 FROM paused_queues WHERE queue = ?", (queue,)).fetchone()
    return row is not None
