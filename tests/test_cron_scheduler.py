"""The embedded cron scheduler on the real app, driven by a clock the tests move."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cron.scheduler import SHUTDOWN_ABANDONED, Attempt
from cron.slots import INTERRUPTED
from tests.utils.cron import (
    LEASE_SECONDS,
    T0,
    Blocker,
    FakeClock,
    blocker,
    calls,
    close_databases,
    entry,
    failures_left,
    reset_jobs,
    scheduler,
)
from tests.utils.tasks_app import TaskHarness, eventually, running_app


@pytest.fixture(autouse=True)
def fresh_jobs() -> Iterator[None]:
    reset_jobs()
    yield
    reset_jobs()
    close_databases()


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[TaskHarness]:
    # The app's own scheduler stays off: these tests run theirs, on a fake clock.
    async with running_app(tmp_path, cron_scheduler=False) as harness:
        yield harness


def at(hhmmss: str, day: int = 0) -> datetime:
    clock = datetime.strptime(hhmmss, "%H:%M:%S").time()
    return datetime.combine(T0.date() + timedelta(days=day), clock, UTC)


def slots(attempts: list[Attempt]) -> list[tuple[str, datetime, int, str]]:
    return sorted((a.job, a.slot, a.attempt, a.outcome) for a in attempts)


async def test_jobs_run_at_their_slots_and_not_between(harness: TaskHarness) -> None:
    clock = FakeClock(at("00:00:00"))
    every_ten = entry("test_cron_a", "every 10 minutes synchronized")
    daily = entry("test_cron_b", "every day 09:00", timezone="Europe/London")
    cron = scheduler(harness, [every_ten, daily], clock)

    assert await cron.tick(harness.app) == [], "the first sight of a job only notes the time"
    clock.set(at("00:09:59"))
    assert await cron.tick() == []
    clock.set(at("00:10:00"))
    assert slots(await cron.tick()) == [("test_cron_a", at("00:10:00"), 1, "done")]
    clock.set(at("00:19:00"))
    assert await cron.tick() == []
    clock.set(at("09:00:00"))  # 09:00 in London in January is 09:00 UTC
    assert slots(await cron.tick()) == [
        ("test_cron_a", at("00:20:00"), 1, "done"),  # the first slot missed since 00:10
        ("test_cron_b", at("09:00:00"), 1, "done"),
    ]
    assert calls == {"test_cron_a": 2, "test_cron_b": 1}
    runs = await harness.runs()
    assert {(run.kind, run.name, run.status, run.attempt) for run in runs} == {
        ("cron", "test_cron_a", "done", 1),
        ("cron", "test_cron_b", "done", 1),
    }
    assert len(runs) == 3


async def test_every_n_minutes_counts_from_the_end_of_the_last_run(harness: TaskHarness) -> None:
    # App Engine: without from/to, "the next interval starts after the last job completed".
    clock = FakeClock(at("00:00:00"))
    cron = scheduler(harness, [entry("test_cron_a", "every 10 minutes")], clock)
    await cron.tick(harness.app)
    clock.set(at("00:13:00"))  # three minutes late
    assert slots(await cron.tick()) == [("test_cron_a", at("00:10:00"), 1, "done")]
    clock.set(at("00:22:59"))
    assert await cron.tick() == []
    clock.set(at("00:23:00"))
    assert slots(await cron.tick()) == [("test_cron_a", at("00:23:00"), 1, "done")]


async def test_a_restart_or_a_second_process_never_repeats_a_slot(
    harness: TaskHarness, tmp_path: Path
) -> None:
    clock = FakeClock(at("08:00:00"))
    daily = [entry("test_cron_a", "every day 09:00")]
    first = scheduler(harness, daily, clock)
    await first.tick(harness.app)
    clock.set(at("09:00:00"))
    assert len(await first.tick()) == 1
    restarted = scheduler(harness, daily, clock, db_path=tmp_path / "timeline.db")
    assert await restarted.tick(harness.app) == []
    # Two processes on one file, both awake at the slot: one of them runs it.
    clock.set(at("09:00:00", day=1))
    other = scheduler(harness, daily, clock, db_path=tmp_path / "timeline.db")
    both = await asyncio.gather(restarted.tick(), other.tick(harness.app))
    assert sorted(len(attempts) for attempts in both) == [0, 1]
    assert calls["test_cron_a"] == 2


async def test_slots_missed_while_down_run_once_on_restart(
    harness: TaskHarness, tmp_path: Path
) -> None:
    clock = FakeClock(at("00:00:00"))
    entries = [
        entry("test_cron_a", "every 10 minutes synchronized"),
        entry("test_cron_b", "every day 09:00"),
    ]
    await scheduler(harness, entries, clock).tick(harness.app)
    clock.set(at("10:05:00", day=3))  # down for three days: hundreds of slots, three 09:00s
    back = scheduler(harness, entries, clock, db_path=tmp_path / "timeline.db")
    assert slots(await back.tick(harness.app)) == [
        ("test_cron_a", at("00:10:00"), 1, "done"),
        ("test_cron_b", at("09:00:00"), 1, "done"),
    ]
    assert await back.tick() == [], "one catch-up run per job, not one per missed slot"
    clock.set(at("10:10:00", day=3))
    assert slots(await back.tick()) == [("test_cron_a", at("10:10:00", day=3), 1, "done")]
    clock.set(at("09:00:00", day=4))
    assert [a.slot for a in await back.tick() if a.job == "test_cron_b"] == [at("09:00:00", day=4)]


async def test_a_failing_job_backs_off_then_gives_up(harness: TaskHarness) -> None:
    clock = FakeClock(at("08:00:00"))
    failing = entry(
        "test_cron_fails",
        "every day 09:00",
        job_retry_limit=2,
        min_backoff_seconds=10,
        max_backoff_seconds=100,
    )
    cron = scheduler(harness, [failing], clock)
    await cron.tick(harness.app)
    outcomes = []
    for moment in ("09:00:00", "09:00:09", "09:00:10", "09:00:29", "09:00:30", "09:05:00"):
        clock.set(at(moment))
        outcomes += [(moment, a.attempt, a.status, a.outcome) for a in await cron.tick()]
    # Backoff 10 s, then doubled to 20 s; job_retry_limit 2 means three attempts.
    assert outcomes == [
        ("09:00:00", 1, 500, "retrying"),
        ("09:00:10", 2, 500, "retrying"),
        ("09:00:30", 3, 500, "failed"),
    ]
    runs = await harness.runs()
    assert sorted((run.attempt, run.status) for run in runs) == [
        (1, "error"),
        (2, "error"),
        (3, "error"),
    ]
    assert all("failing on purpose" in (run.error or "") for run in runs)
    clock.set(at("09:00:00", day=1))
    assert [(a.attempt, a.slot) for a in await cron.tick()] == [(1, at("09:00:00", day=1))]


async def test_without_retry_parameters_a_failure_waits_for_the_next_slot(
    harness: TaskHarness,
) -> None:
    clock = FakeClock(at("08:00:00"))
    cron = scheduler(harness, [entry("test_cron_fails", "every day 09:00")], clock)
    await cron.tick(harness.app)
    clock.set(at("09:00:00"))
    assert [(a.attempt, a.outcome) for a in await cron.tick()] == [(1, "failed")]
    clock.set(at("09:00:00", day=1) - timedelta(seconds=1))
    assert await cron.tick() == []


async def test_job_age_limit_alone_retries_for_that_long(harness: TaskHarness) -> None:
    clock = FakeClock(at("08:00:00"))
    aged = entry("test_cron_fails", "every day 09:00", job_age_limit="1m", min_backoff_seconds=15)
    cron = scheduler(harness, [aged], clock)
    await cron.tick(harness.app)
    clock.set(at("09:00:00"))
    attempts = await cron.tick()
    while attempts and attempts[-1].outcome == "retrying":
        clock.advance(seconds=15 * 2 ** (attempts[-1].attempt - 1))
        attempts += await cron.tick()
    # Waits of 15, 30, 60 s: failing at 45 s it is still under a minute old, at 105 s not.
    assert [(a.attempt, a.outcome) for a in attempts] == [
        (1, "retrying"),
        (2, "retrying"),
        (3, "retrying"),
        (4, "failed"),
    ]


async def test_a_flaky_job_stops_retrying_once_it_succeeds(harness: TaskHarness) -> None:
    clock = FakeClock(at("08:00:00"))
    failures_left["test_cron_flaky"] = 1
    flaky = entry("test_cron_flaky", "every day 09:00", job_retry_limit=5, min_backoff_seconds=5)
    cron = scheduler(harness, [flaky], clock)
    await cron.tick(harness.app)
    clock.set(at("09:00:00"))
    first = await cron.tick()
    clock.advance(seconds=5)
    second = await cron.tick()
    clock.advance(hours=1)
    assert [(a.attempt, a.outcome) for a in [*first, *second, *await cron.tick()]] == [
        (1, "retrying"),
        (2, "done"),
    ]
    assert calls["test_cron_flaky"] == 2


@pytest.mark.parametrize(("retry_limit", "retried"), [(1, True), (0, False)])
async def test_an_attempt_cut_off_by_a_dying_process_counts_as_a_failure(
    harness: TaskHarness, tmp_path: Path, retry_limit: int, retried: bool
) -> None:
    clock = FakeClock(at("08:00:00"))
    job = entry("test_cron_blocks", "every day 09:00", job_retry_limit=retry_limit)
    dying = scheduler(harness, [job], clock)
    await dying.tick(harness.app)
    blocker.append(Blocker())
    clock.set(at("09:00:00"))
    cut_off = asyncio.create_task(dying.tick())
    await blocker[0].started.wait()
    cut_off.cancel()  # as if the process were killed: nothing is settled
    await asyncio.gather(cut_off, return_exceptions=True)
    blocker.clear()

    restarted = scheduler(harness, [job], clock, db_path=tmp_path / "timeline.db")
    clock.advance(seconds=LEASE_SECONDS - 1)
    assert await restarted.tick(harness.app) == [], "the lease still holds"
    clock.advance(seconds=1)
    assert await restarted.tick() == [], "the retry waits for its backoff"
    clock.advance(minutes=1)
    attempts = [(a.slot, a.attempt, a.outcome) for a in await restarted.tick()]
    assert attempts == ([(at("09:00:00"), 2, "done")] if retried else [])
    interrupted = [run for run in await harness.runs() if run.error == INTERRUPTED]
    assert [(run.name, run.attempt) for run in interrupted] == [("test_cron_blocks", 1)]


async def test_the_loop_runs_due_slots_and_settles_a_run_cut_off_at_shutdown(
    harness: TaskHarness,
) -> None:
    clock = FakeClock(at("08:00:00"))
    entries = [
        entry("test_cron_a", "every day 09:00"),
        entry("test_cron_blocks", "every day 10:00"),
    ]
    cron = scheduler(harness, entries, clock, shutdown_grace_seconds=0.05)
    await cron.start(harness.app)
    try:
        await eventually(lambda: _row_count(harness, 2), what="both jobs noted")
        clock.set(at("09:00:00"))
        cron.wake()
        await eventually(lambda: _equals(calls["test_cron_a"], 1), what="the 09:00 run")
        blocker.append(Blocker())
        clock.set(at("10:00:00"))
        cron.wake()
        await asyncio.wait_for(blocker[0].started.wait(), 5)
    finally:
        await cron.stop()
    (abandoned,) = [run for run in await harness.runs() if run.name == "test_cron_blocks"]
    assert (abandoned.status, abandoned.error) == ("error", SHUTDOWN_ABANDONED)


async def _row_count(harness: TaskHarness, expected: int) -> bool:
    assert harness.runtime.db is not None
    try:
        (count,) = await harness.runtime.db.read(
            lambda conn: conn.execute("SELECT count(*) FROM cron_slots").fetchone()
        )
    except sqlite3.OperationalError:  # the loop has not made its table yet
        return False
    return bool(count == expected)


async def _equals(actual: int, expected: int) -> bool:
    return actual == expected
