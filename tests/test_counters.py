"""Sharded counters: deltas in the actors' groups, folded into shards by a task and
into the total by a cron job; the value is exact once folded and never changes by
folding again."""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store import counters
from store.keys import Key
from store.port import Store
from store.transactions import run_in_transaction
from taskqueue.context import JobContext
from taskqueue.embedded.database import task_database
from taskqueue.embedded.queue import EmbeddedQueue
from taskqueue.enqueue import Tasks
from tasks.counters import STALE_DELTA, fold_counters, fold_deltas
from tests.utils.contexts import local_ports

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
_names = itertools.count()
_actors = itertools.count()


@pytest.fixture
async def job(store: Store, tmp_path: Path) -> AsyncIterator[JobContext]:
    tasks = Tasks(EmbeddedQueue(task_database(tmp_path / "tasks.db")))
    async with local_ports(tmp_path) as ports:
        yield JobContext(store, tasks, "fold_counters", ports.blobs, ports.push, clock=lambda: NOW)


async def value(store: Store, name: str) -> int:
    return counters.total(await store.get_many(counters.shard_keys(name)))


async def add(store: Store, name: str, delta: int, when: datetime = NOW) -> None:
    """One actor's change, committed the way a like commits it."""
    actor = f"actor-{next(_actors)}"

    async def work(tx: object) -> None:
        counters.add(tx, name, delta, actor_id=actor, now=when)  # type: ignore[arg-type]

    await run_in_transaction(store, work)


async def test_a_change_counts_once_its_deltas_are_folded(store: Store, job: JobContext) -> None:
    name = counters.counter_name("likes", Key.of("User", "u", "Photo", "p"))
    await asyncio.gather(*(add(store, name, 1) for _ in range(30)))
    await add(store, name, -2)
    assert await value(store, name) == 0  # written in 31 actors' groups, none in the counter's
    await fold_deltas(store, name, NOW)
    assert await value(store, name) == 28
    assert await store.page(counters.deltas_of(name), limit=10) == []
    await fold_counters(job)
    shards = await store.get_many(counters.shard_keys(name))
    assert counters.count_of(shards[0]) == 28
    assert all(counters.count_of(shard) == 0 for shard in shards[1:])
    assert await store.page(counters.pending_shards(), limit=10) == []
    await fold_counters(job)  # a retried cron run changes nothing
    await fold_deltas(store, name, NOW)  # nor does a repeated fold task
    assert await value(store, name) == 28


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
            await fold_deltas(store, name, NOW)
            expected += step
        assert await value(store, name) == max(expected, 0)


async def test_folds_racing_each_other_and_writes_count_each_delta_once(
    store: Store, job: JobContext
) -> None:
    name = "likes:racing"
    await asyncio.gather(
        *(add(store, name, 1) for _ in range(40)),
        *(fold_deltas(store, name, NOW) for _ in range(3)),
        fold_counters(job),
    )
    await fold_deltas(store, name, NOW)
    await fold_counters(job)
    assert await value(store, name) == 40


async def test_the_cron_job_folds_deltas_whose_task_was_lost(store: Store, job: JobContext) -> None:
    lost, fresh = "followers:lost-task", "followers:task-still-due"
    await add(store, lost, 1, when=NOW - STALE_DELTA - timedelta(seconds=1))
    await add(store, fresh, 1, when=NOW)
    await fold_counters(job)
    assert await value(store, lost) == 1
    assert await value(store, fresh) == 0  # its own task folds it
    await fold_deltas(store, fresh, NOW)
    assert await value(store, fresh) == 1
