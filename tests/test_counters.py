"""Counters: deltas in groups of their own, folded into one entity per counter by a
task (and by the cron job when the task was lost); the value is exact once folded
and never changes by folding again. Shards the code before one entity per counter
left pending still count once folded (the upgrade), whoever folds them."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store import counters
from store.keys import Key
from store.models import sort_key
from store.port import Entity, Store
from store.transactions import run_in_transaction
from taskqueue.context import JobContext
from taskqueue.embedded.database import task_database
from taskqueue.embedded.queue import EmbeddedQueue
from taskqueue.enqueue import Tasks
from tasks.counters import STALE_DELTA, fold_counters, fold_deltas, fold_legacy_shards
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
    [total] = await store.get_many([counters.counter_key(name)])
    return counters.value(total)


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
    assert await store.get_many(counters.legacy_shard_keys(name)) == [None] * 8  # one entity
    await fold_counters(job)  # a retried cron run changes nothing
    await fold_deltas(store, name, NOW)  # nor does a repeated fold task
    assert await value(store, name) == 28


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# A step: a change folded by its task; "fold", the legacy fold (at start, by the cron
# job); or (n, change), the old code folding a change into its shard n.
@given(
    steps=st.lists(
        st.one_of(
            st.integers(-2, 3), st.just("fold"), st.tuples(st.integers(0, 7), st.integers(-2, 3))
        ),
        min_size=1,
        max_size=12,
    )
)
async def test_any_mix_of_writes_and_folds_sums_right(
    store: Store, job: JobContext, steps: list[int | str | tuple[int, int]]
) -> None:
    name = f"likes:property-{next(_names)}"
    expected = 0  # in the total
    in_shards = 0  # in legacy shards, not folded yet
    for step in steps:
        if step == "fold":
            await fold_legacy_shards(store, NOW)
            expected, in_shards = expected + in_shards, 0
        elif isinstance(step, tuple):
            n, change = step
            [shard] = await store.get_many([legacy_shard(name, n, 0).key])
            await store.put_many([legacy_shard(name, n, counters.count_of(shard) + change)])
            in_shards += change
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


def legacy_shard(name: str, n: int, count: int, *, pending: bool = True) -> Entity:
    """A shard as the code before one entity per counter left it: `pending` until
    its cron job folded it (to 0, not pending)."""
    key = Key.of(counters.SHARD_KIND, f"{name}#{n}")
    sort = sort_key(NOW, key.name)
    return Entity(key, {"count": count, "counter": name, "pending": pending, "sort_key": sort})


async def test_legacy_shards_fold_into_the_total_and_are_deleted(store: Store) -> None:
    name = "likes:upgraded"
    await store.put_many(
        [
            counters.total_entity(name, 10, NOW),
            legacy_shard(name, 0, 3),
            legacy_shard(name, 5, -1),
            legacy_shard(name, 7, 0, pending=False),  # folded by the old cron job
        ]
    )
    await fold_legacy_shards(store, NOW)
    assert await value(store, name) == 12
    assert await store.get_many(counters.legacy_shard_keys(name)) == [None] * 8
    assert await store.page(counters.pending_shards(), limit=10) == []
    await fold_legacy_shards(store, NOW)  # the next process's start folds nothing more
    assert await value(store, name) == 12


async def test_a_shard_an_old_instance_writes_after_the_upgrade_counts_at_the_cron_run(
    store: Store, job: JobContext
) -> None:
    """A Datastore deploy: an instance of the old version still folds into a shard
    after the new one started. Its count is late (the cron job's run), not lost."""
    name = "followers:rolling-deploy"
    await add(store, name, 2)
    await fold_deltas(store, name, NOW)
    await store.put_many([legacy_shard(name, 4, 5)])
    assert await value(store, name) == 2
    await fold_counters(job)
    assert await value(store, name) == 7


async def test_legacy_and_new_folds_racing_count_every_change_once(
    store: Store, job: JobContext
) -> None:
    name = "likes:upgrade-racing"
    await store.put_many([counters.total_entity(name, 4, NOW), legacy_shard(name, 2, 6)])
    await asyncio.gather(
        *(add(store, name, 1) for _ in range(20)),
        *(fold_deltas(store, name, NOW) for _ in range(3)),
        fold_legacy_shards(store, NOW),
        fold_counters(job),
    )
    await fold_deltas(store, name, NOW)
    assert await value(store, name) == 30
    assert await store.page(counters.pending_shards(), limit=10) == []
