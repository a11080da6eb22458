"""The run log: one record per task delivery and cron run, whatever the outcome.

The internal routes write it (so Cloud Tasks deliveries are logged as embedded ones
are); the embedded dispatcher adds the runs that never reached a route, such as a
handler cut off by the dispatch deadline. Read it with `python -m taskqueue.runs` or,
from a resolver, with `recent_runs(...)`.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

from store.sqlite_batches import shared_batches
from store.sqlite_db import SQLiteDatabase

MAX_ERROR_CHARS = 2000
RunKind = Literal["task", "cron"]
RunStatus = Literal["done", "error"]
log = logging.getLogger("timeline.tasks.runs")


@dataclass(frozen=True)
class Run:
    kind: RunKind
    name: str  # the handler or the cron job
    queue: str | None
    task_name: str | None
    attempt: int  # 1 for the first delivery
    status: RunStatus
    started_at: datetime
    duration_ms: float
    error: str | None = None


def error_text(error: BaseException | str) -> str:
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


class RunLog(Protocol):
    async def record(self, run: Run) -> None: ...

    async def recent(self, *, limit: int = 50, failed_only: bool = False) -> list[Run]:
        """Newest first; `failed_only` keeps the runs that did not succeed."""
        ...


async def recent_runs(runs: RunLog, *, limit: int = 50, failed_only: bool = False) -> list[Run]:
    """What an admin-only GraphQL field returns (the resolver checks the viewer)."""
    if not 1 <= limit <= 500:
        raise ValueError(f"limit must be within 1..500, not {limit}")
    return await runs.recent(limit=limit, failed_only=failed_only)


class SQLiteRunLog:
    """Runs in `task_runs`, beside the embedded queue."""

    def __init__(self, db: SQLiteDatabase) -> None:
        self._db = db
        self._batches = shared_batches(db)  # a line per run: shared jobs on the writer

    async def record(self, run: Run) -> None:
        await self._batches.write(lambda conn: insert_run(conn, run))

    async def recent(self, *, limit: int = 50, failed_only: bool = False) -> list[Run]:
        return await self._db.read(lambda conn: select_runs(conn, limit, failed_only))


class LoggedRunLog:
    """Production until runs are kept in the store: one structured log line per run,
    which Cloud Logging indexes. It cannot list runs back."""

    async def record(self, run: Run) -> None:
        fields = asdict(run) | {"started_at": run.started_at.isoformat()}
        log.info("task run %s", json.dumps(fields, sort_keys=True))

    async def recent(self, *, limit: int = 50, failed_only: bool = False) -> list[Run]:
        raise NotImplementedError("runs are in Cloud Logging here (logger timeline.tasks.runs)")


def insert_run(conn: sqlite3.Connection, run: Run) -> None:
    conn.execute(
        "INSERT INTO task_runs(kind, name, queue, task_name, attempt, status, started_at, "
        "duration_ms, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            run.kind,
            run.name,
            run.queue,
            run.task_name,
            run.attempt,
            run.status,
            run.started_at.timestamp(),
            run.duration_ms,
            None if run.error is None else error_text(run.error),
        ),
    )


def select_runs(conn: sqlite3.Connection, limit: int, failed_only: bool) -> list[Run]:
    where = "WHERE status != 'done'" if failed_only else ""
    rows = conn.execute(
        "SELECT kind, name, queue, task_name, attempt, status, started_at, duration_ms, error "
        f"FROM task_runs {where} ORDER BY id DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [
        Run(kind, name, queue, task_name, attempt, status, datetime.fromtimestamp(at, UTC), ms, err)
        for kind, name, queue, task_name, attempt, status, at, ms, err in rows
    ]
