"""Sharded counters and the fold job: the value never changes by folding."""

from __future__ import annotations

import asyncio
import functools
import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store import counters
from store.keys import Key
from store.port import Store
from store.transactions import run_in_transaction
from tasks.context import JobContext
from tasks.counter_jobs import fold_counters
from tasks.embedded_queue import EmbeddedQueue
from tasks.enqueue import Tasks
from tasks.task_db import task_database

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
_names = itertools.count()


@pytest.fixture
def job(store: Store, tmp_path: Path) -> JobContext:
    tasks = Tasks(EmbeddedQueue(task_database(tmp_path / "tasks.db")))
    return JobContext(store=store, tasks=tasks, job="fold_counters", clock=lambda: NOW)


async def value(store: Store, name: str) -> int:
    return counters.total(await store.get_many(counters.shard_keys(name)))


async def add(store: Store, name: str, delta: int) -> None:
    await run_in_transaction(store, lambda tx: counters.add(tx, name, delta), attempts=30)


async def test_fold_keeps_the_value_and_clears_the_shards(store: Store, job: JobContext) -> None:
    name = counters.counter_name("likes", Key.of("User", "u", "Photo", "p"))
    await asyncio.gather(*(add(store, name, 1) for _ in range(12)))
    await add(store, name, -2)
    assert await value(store, name) == 10
    await fold_counters(job)
    shards = await store.get_many(counters.shard_keys(name))
    assert counters.count_of(shards[0]) == 10
    assert all(counters.count_of(shard) == 0 for shard in shards[1:])
    assert await store.page(counters.pending_shards(), limit=10) == []
    await fold_counters(job)  # a retried cron run changes nothing
    assert await value(store, name) == 10


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(st.one_of(st.integers(-2, 3), st.just("fold")), min_size=1, max_size=12))
async def test_any_mix_of_writes_and_folds_sums_right(
    store: Store, job: JobContext, steps: list[int | str]
) -> None:
    name = f"likes:property-{next(_names)}"
    expected = 0
    for step in steps:
        if step == "fold":
            await run_in_transaction(store, functools.partial(counters.fold, name=name, now=NOW))
        else:
            assert isinstance(step, int)
            await add(store, name, step)
            expected += step
        assert await value(store, name) == max(expected, 0)


async def test_writes_racing_a_fold_are_not_lost(store: Store, job: JobContext) -> None:
    name = "likes:racing"
    await asyncio.gather(*(add(store, name, 1) for _ in range(6)), fold_counters(job))
    await fold_counters(job)
    assert await value(store, name) == 6
