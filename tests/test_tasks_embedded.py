"""The embedded queue, through the real app: delivery, dedup, delays, retries, pacing."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from store.sqlite_db import SQLiteDatabase
from taskqueue.context import TaskContext
from taskqueue.embedded.database import task_database
from taskqueue.embedded.queue import list_tasks
from taskqueue.registry import Payload, task_handler
from tests.utils.tasks_app import (
    ManualClock,
    TaskHarness,
    deliveries,
    effect_count,
    eventually,
    running_app,
)

seen_infos: list[TaskContext] = []
concurrency = {"now": 0, "most": 0}


@task_handler("test_capture")
async def capture(payload: Payload, ctx: TaskContext) -> None:
    seen_infos.append(ctx)


@task_handler("test_concurrency")
async def measure_concurrency(payload: Payload, ctx: TaskContext) -> None:
    concurrency["now"] += 1
    concurrency["most"] = max(concurrency["most"], concurrency["now"])
    await asyncio.sleep(0.05)
    concurrency["now"] -= 1


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[TaskHarness]:
    async with running_app(tmp_path, lease_seconds=2.0) as running:
        yield running


async def test_a_task_runs_once_and_its_run_is_logged(harness: TaskHarness) -> None:
    result = await harness.tasks.enqueue("test_effect", {"key": "one"})
    assert result.created

    async def done() -> bool:
        return await effect_count(harness.store, "one") == 1

    await eventually(done, what="the handler's effect")
    await eventually(lambda: _no_rows(harness), what="the finished unnamed task to be removed")
    runs = await harness.runs()
    assert [(r.kind, r.name, r.status, r.attempt, r.task_name) for r in runs] == [
        ("task", "test_effect", "done", 1, result.name)
    ]


async def _no_rows(harness: TaskHarness) -> bool:
    return not await harness.task_rows()


async def test_the_handler_sees_what_cloud_tasks_would_send(harness: TaskHarness) -> None:
    seen_infos.clear()
    before = time.time()
    await harness.tasks.enqueue("test_capture", {}, name="capture-me", countdown=0.1)
    await eventually(lambda: _true(bool(seen_infos)), what="the capture handler")
    info = seen_infos[0].info
    assert (info.handler, info.queue, info.name) == ("test_capture", "default", "capture-me")
    assert (info.retry_count, info.execution_count) == (0, 0)
    assert info.eta is not None
    assert before + 0.05 < info.eta.timestamp() < before + 2


async def _true(value: bool) -> bool:
    return value


async def test_a_named_task_is_added_once(harness: TaskHarness) -> None:
    first = await harness.tasks.enqueue("test_effect", {"key": "named"}, name="only-once")
    second = await harness.tasks.enqueue("test_effect", {"key": "named"}, name="only-once")
    assert first.created
    assert second.already_exists
    assert second.name == "only-once"

    async def done() -> bool:
        return [row.state for row in await harness.task_rows()] == ["done"]

    await eventually(done, what="the named task to finish")
    third = await harness.tasks.enqueue("test_effect", {"key": "named"}, name="only-once")
    assert third.already_exists, "a finished name stays taken for the dedup window"
    assert await effect_count(harness.store, "named") == 1
    assert len(await deliveries(harness.store, "named")) == 1


async def test_a_delayed_task_waits_for_its_eta(tmp_path: Path) -> None:
    # The app's clock stands still: the task's eta (0.4 s on) never comes until the
    # test moves it there.
    clock = ManualClock(time.time())
    async with running_app(tmp_path, clock=clock) as harness:
        await harness.tasks.enqueue("test_effect", {"key": "later"}, countdown=0.4)
        await _let_workers_look(harness, "default")
        assert await effect_count(harness.store, "later") == 0
        clock.advance(0.3)
        await _let_workers_look(harness, "default")
        assert await effect_count(harness.store, "later") == 0
        clock.advance(0.2)
        await _let_workers_look(harness, "default")

        async def done() -> bool:
            return await effect_count(harness.store, "later") == 1

        await eventually(done, what="the delayed task once its eta has come")


async def _let_workers_look(harness: TaskHarness, queue: str) -> None:
    """Time for the workers to look at `queue` again: a check after it can fail
    only if they dispatch what they should not (it never fails for being slow)."""
    assert harness.runtime.workers is not None
    harness.runtime.workers.wake(queue)
    await asyncio.sleep(0.2)


async def test_a_failing_task_is_retried_with_backoff(harness: TaskHarness) -> None:
    await harness.tasks.enqueue(
        "test_effect", {"key": "flaky", "fail_times": 2}, queue="retries", name="flaky"
    )

    async def done() -> bool:
        # The run log's line lands after the effect's commit: wait for both.
        finished = [run.status for run in await harness.runs()][:1] == ["done"]
        return finished and await effect_count(harness.store, "flaky") == 1

    await eventually(done, what="the flaky task to succeed on its third try")
    tries = sorted(await deliveries(harness.store, "flaky"), key=lambda d: d["retry_count"])
    assert [d["retry_count"] for d in tries] == [0, 1, 2]
    # min 0.05 s, doubled once: the retries wait 0.05 s and then 0.1 s.
    gaps = [(b["at"] - a["at"]).total_seconds() for a, b in itertools.pairwise(tries)]
    assert gaps[0] >= 0.05
    assert gaps[1] >= 0.1
    statuses = [run.status for run in reversed(await harness.runs())]
    assert statuses == ["error", "error", "done"]


async def test_a_task_that_loses_a_race_is_retried_with_a_warning_not_an_error(
    harness: TaskHarness, caplog: pytest.LogCaptureFixture
) -> None:
    # A TransactionConflict that outlasted run_in_transaction's retries (busy writers
    # in the groups a fan-in reads) is no bug: one warning line, and the queue's retry.
    await harness.tasks.enqueue(
        "test_effect", {"key": "raced", "conflict_times": 1}, queue="retries", name="raced"
    )
    with caplog.at_level(logging.INFO, logger="timeline.tasks"):

        async def done() -> bool:
            # The run log's line lands after the effect's commit: wait for both.
            finished = [run.status for run in await harness.runs()][:1] == ["done"]
            return finished and await effect_count(harness.store, "raced") == 1

        await eventually(done, what="the raced task to succeed on its second try")
    [warning] = [r for r in caplog.records if "will be retried" in r.getMessage()]
    assert warning.levelno == logging.WARNING
    assert warning.exc_info is None
    assert "TransactionConflict: losing on purpose, try 1" in warning.getMessage()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    statuses = [run.status for run in reversed(await harness.runs())]
    assert statuses == ["error", "done"]


async def test_a_task_that_exhausts_its_retries_is_kept_as_failed(harness: TaskHarness) -> None:
    await harness.tasks.enqueue(
        "test_always_fails", {"key": "doomed", "pad": 5000}, queue="retries", name="doomed"
    )

    async def failed() -> bool:
        return [row.state for row in await harness.task_rows("failed")] == ["failed"]

    await eventually(failed, what="the task to be marked failed")
    (row,) = await harness.task_rows("failed")
    assert row.retry_count == 2
    assert row.last_status == 500
    assert row.last_error is not None
    assert "this handler always fails" in row.last_error
    assert len(await deliveries(harness.store, "doomed")) == 3, "task_retry_limit 2: 3 tries"
    failed_runs = await harness.runs(failed_only=True)
    assert [run.attempt for run in failed_runs] == [3, 2, 1]
    assert all(run.error and len(run.error) <= 2000 for run in failed_runs)
    again = await harness.tasks.enqueue("test_always_fails", {}, queue="retries", name="doomed")
    assert again.already_exists, "a failed task's name is not free again at once"


async def test_a_queue_keeps_to_its_rate(tmp_path: Path) -> None:
    # rate 20/s with a bucket of 1, on a clock that moves only when told: one
    # dispatch at once, then one per 50 ms, and one only after a long wait (the
    # bucket holds one token).
    rate_clock = ManualClock(0.0)
    async with running_app(tmp_path, rate_clock=rate_clock) as harness:
        for n in range(6):
            await harness.tasks.enqueue("test_effect", {"key": f"paced-{n}"}, queue="paced")
        for advance, dispatched in ((0.0, 1), (0.02, 1), (0.03, 2), (10.0, 3), (0.05, 4)):
            rate_clock.advance(advance)

            async def reached(expected: int = dispatched) -> bool:
                return await _dispatched(harness, "paced", of=6) >= expected

            await eventually(reached, what=f"{dispatched} dispatched")
            await _let_workers_look(harness, "paced")  # and no more than that
            assert await _dispatched(harness, "paced", of=6) == dispatched, f"+{advance}s"


async def _dispatched(harness: TaskHarness, queue: str, *, of: int) -> int:
    """How many of the `of` tasks the workers have taken from `queue`."""
    queued = [row for row in await harness.task_rows("queued") if row.queue == queue]
    return of - len(queued)


async def test_a_queue_keeps_to_its_max_concurrent_requests(harness: TaskHarness) -> None:
    concurrency.update(now=0, most=0)
    for _ in range(8):
        await harness.tasks.enqueue("test_concurrency", {}, queue="narrow")
    await eventually(lambda: _no_rows(harness), what="the narrow queue to drain")
    assert concurrency["most"] == 2


async def test_shutdown_hands_back_a_task_still_running(tmp_path: Path) -> None:
    async with running_app(tmp_path) as harness:
        assert harness.runtime.workers is not None
        harness.runtime.workers.shutdown_grace_seconds = 0.1
        await harness.tasks.enqueue("test_effect", {"key": "cut", "seconds": 30}, name="cut")

        async def started() -> bool:
            return bool(await deliveries(harness.store, "cut"))

        await eventually(started, what="the slow task to start")
    db = task_database(SQLiteDatabase(tmp_path / "timeline.db"))
    (row,) = db.read_blocking(lambda conn: list_tasks(conn, None, 10))
    db.close()
    # Handed back untouched: no retry counted, runnable at once by the next process.
    assert (row.state, row.retry_count, row.name) == ("queued", 0, "cut")
