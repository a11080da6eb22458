"""Cron jobs for the tests, a clock the tests move, and schedulers built on the real app.

The jobs are registered like the real ones and reached through the real route and
guard; they count their calls in `calls` (per job name), which `reset_jobs` clears.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cron.config import CronEntry, parse_cron_yaml
from cron.scheduler import CronScheduler
from store.sqlite_db import SQLiteDatabase
from taskqueue.context import JobContext
from taskqueue.embedded.database import task_database
from taskqueue.registry import cron_job
from tests.utils.tasks_app import TaskHarness

T0 = datetime(2030, 1, 7, 0, 0, tzinfo=UTC)  # a Monday
LEASE_SECONDS = 30.0
calls: Counter[str] = Counter()
failures_left: Counter[str] = Counter()  # test_cron_flaky fails while its count lasts


@dataclass
class Blocker:
    """Makes test_cron_blocks wait inside its run until released."""

    started: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


blocker: list[Blocker] = []
_opened: list[SQLiteDatabase] = []  # connections opened "as another process", to close


def reset_jobs() -> None:
    calls.clear()
    failures_left.clear()
    blocker.clear()


@cron_job("test_cron_a")
async def tally_a(ctx: JobContext) -> None:
    calls[ctx.job] += 1


@cron_job("test_cron_b")
async def tally_b(ctx: JobContext) -> None:
    calls[ctx.job] += 1


@cron_job("test_cron_fails")
async def always_fails(ctx: JobContext) -> None:
    calls[ctx.job] += 1
    raise RuntimeError("failing on purpose")


@cron_job("test_cron_flaky")
async def flaky(ctx: JobContext) -> None:
    calls[ctx.job] += 1
    if failures_left[ctx.job] > 0:
        failures_left[ctx.job] -= 1
        raise RuntimeError("flaky on purpose")


@cron_job("test_cron_blocks")
async def blocks(ctx: JobContext) -> None:
    calls[ctx.job] += 1
    if blocker:
        blocker[0].started.set()
        await blocker[0].release.wait()


def close_databases() -> None:
    while _opened:
        _opened.pop().close()


class FakeClock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def entry(job: str, schedule: str, timezone: str = "UTC", **retry: Any) -> CronEntry:
    """One cron.yaml entry, read by the real loader."""
    item: dict[str, Any] = {"url": f"/_internal/cron/{job}", "schedule": schedule}
    item["timezone"] = timezone
    if retry:
        item["retry_parameters"] = retry
    (parsed,) = parse_cron_yaml({"cron": [item]})
    return parsed


def scheduler(
    harness: TaskHarness,
    entries: list[CronEntry],
    clock: FakeClock,
    db_path: Path | None = None,
    **options: Any,
) -> CronScheduler:
    """A scheduler on the harness's app and run log; `db_path` opens a connection of
    its own on a task database, as another process would (default: the app's)."""
    db = harness.runtime.db
    if db_path is not None:
        db = task_database(SQLiteDatabase(db_path))
        _opened.append(db)
    assert db is not None
    options.setdefault("lease_seconds", LEASE_SECONDS)
    return CronScheduler(
        db,
        entries,
        secret=harness.runtime.dispatch_secret,
        runs=harness.runtime.runs,
        clock=clock,
        **options,
    )
