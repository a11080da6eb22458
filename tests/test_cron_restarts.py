"""For any sequence of clock moves, restarts and rival processes, each slot runs at
most once, and a job that is due runs at the next look, once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cron.config import CronEntry
from cron.scheduler import Attempt, CronScheduler
from store.sqlite_db import SQLiteDatabase
from taskqueue.embedded.database import task_database
from tests.utils.cron import T0, FakeClock, calls, close_databases, entry, reset_jobs, scheduler
from tests.utils.tasks_app import TaskHarness, running_app

SCHEDULES = [
    ("every 10 minutes synchronized", "UTC"),
    ("every 7 minutes", "UTC"),  # counted from the end of the previous run
    ("every day 01:30", "Europe/London"),  # clocks change under it
    ("every mon,thu 09:00", "America/New_York"),
    ("every 2 hours from 22:00 to 02:00", "Australia/Sydney"),
]
ACTIONS = st.sampled_from(["look", "look", "restart", "rivals"])
# From seconds to weeks, so that runs are sometimes on time and sometimes long missed.
WAITS = st.one_of(st.integers(0, 600), st.integers(0, 6 * 3600), st.integers(0, 14 * 86400)).map(
    lambda seconds: timedelta(seconds=seconds)
)
EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[TaskHarness]:
    async with running_app(tmp_path, cron_scheduler=False) as harness:
        yield harness


@pytest.fixture(autouse=True)
def fresh_jobs() -> Iterator[None]:
    yield
    reset_jobs()
    close_databases()


class Process:
    """Schedulers that come and go on one database file, as processes would."""

    def __init__(self, harness: TaskHarness, entries: list[CronEntry], db: Path) -> None:
        self.harness, self.entries, self.db = harness, entries, db
        # The file exists before any rival opens it, as the app's own start makes it:
        # two first connections racing to switch a new file to WAL may find it locked.
        first = task_database(SQLiteDatabase(db))
        first.close()
        self.clock = FakeClock(T0)
        self.current = self.start()

    def start(self) -> CronScheduler:
        return scheduler(self.harness, self.entries, self.clock, db_path=self.db)

    async def act(self, action: str) -> list[Attempt]:
        if action == "restart":
            self.current = self.start()
            return []
        if action == "rivals":
            both = await asyncio.gather(
                self.current.tick(self.harness.app), self.start().tick(self.harness.app)
            )
            return [*both[0], *both[1]]
        return await self.current.tick(self.harness.app)


@EXAMPLES
@given(
    schedule=st.sampled_from(SCHEDULES),
    steps=st.lists(st.tuples(WAITS, ACTIONS), min_size=1, max_size=20),
)
async def test_each_slot_runs_once_at_the_first_look_after_it(
    harness: TaskHarness,
    tmp_path: Path,
    schedule: tuple[str, str],
    steps: list[tuple[timedelta, str]],
) -> None:
    reset_jobs()
    job = entry("test_cron_a", schedule[0], schedule[1])
    process = Process(harness, [job], tmp_path / f"{uuid.uuid4().hex}.db")
    # The model: the first look notes the time; from then on the next slot after the
    # last finish is due at any look at or after it, and runs once however late.
    anchor: datetime | None = None
    ran: list[datetime] = []
    for wait, action in steps:
        process.clock.advance(seconds=wait.total_seconds())
        attempts = await process.act(action)
        now = process.clock.now
        expected: list[datetime] = []
        if action != "restart":
            if anchor is None:
                anchor = now
            elif (due := job.schedule.next_after(anchor)) <= now:
                expected, anchor = [due], now
        assert [(a.slot, a.outcome) for a in attempts] == [(slot, "done") for slot in expected]
        ran += expected
    assert len(set(ran)) == len(ran)
    assert calls["test_cron_a"] == len(ran)


@EXAMPLES
@given(steps=st.lists(st.tuples(WAITS, ACTIONS), min_size=1, max_size=25))
async def test_retries_never_repeat_an_attempt_nor_outlast_the_limit(
    harness: TaskHarness, tmp_path: Path, steps: list[tuple[timedelta, str]]
) -> None:
    reset_jobs()
    job = entry(
        "test_cron_fails",
        "every 1 hours synchronized",
        job_retry_limit=2,
        min_backoff_seconds=300,
        max_doublings=1,
    )
    process = Process(harness, [job], tmp_path / f"{uuid.uuid4().hex}.db")
    seen: list[tuple[datetime, int]] = []
    for wait, action in steps:
        process.clock.advance(seconds=wait.total_seconds())
        attempts = await process.act(action)
        assert len(attempts) <= 1
        for attempt in attempts:
            earlier = [number for slot, number in seen if slot == attempt.slot]
            assert attempt.attempt == len(earlier) + 1, "attempts at a slot count up by one"
            assert all(attempt.slot > slot for slot, _ in seen if slot != attempt.slot)
            assert attempt.outcome == ("failed" if attempt.attempt == 3 else "retrying")
            seen.append((attempt.slot, attempt.attempt))
    assert calls["test_cron_fails"] == len(seen)
