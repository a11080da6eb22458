"""At least once, effect once: duplicate enqueues and deliveries."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.keys import Key
from store.port import Entity, Store, Transaction
from tasks.errors import BadTask, UnknownHandler, UnknownQueue
from tasks.headers import app_engine_task_headers
from tests.utils.once import run_once
from tests.utils.tasks_app import (
    TaskHarness,
    deliveries,
    effect_count,
    eventually,
    running_app,
)


async def drained(harness: TaskHarness) -> bool:
    return all(row.state in ("done", "failed") for row in await harness.task_rows())


async def deliver(harness: TaskHarness, name: str, key: str) -> int:
    """What a duplicate delivery from the queue looks like: same task name, again."""
    headers = {**app_engine_task_headers("default", name, 0, 0, 0.0), **harness.secret_headers}
    response = await harness.http.post(
        "/_internal/tasks/test_effect", headers=headers, json={"key": key}
    )
    return response.status_code


async def test_a_duplicate_delivery_has_no_second_effect(tmp_path: Path) -> None:
    async with running_app(tmp_path) as harness:
        await harness.tasks.enqueue("test_effect", {"key": "dup"}, name="dup-task")
        await eventually(lambda: drained(harness), what="the task to run")
        assert await deliver(harness, "dup-task", "dup") == 200
        assert await deliver(harness, "dup-task", "dup") == 200
        assert len(await deliveries(harness.store, "dup")) == 3
        assert await effect_count(harness.store, "dup") == 1


async def test_racing_duplicates_commit_once_on_each_store(store: Store) -> None:
    key = Key.of("IdempotencyRecord", "task:default/racer")
    counter = Key.of("TestEffect", "racer")

    async def bump(tx: Transaction) -> None:
        (existing,) = await tx.get_many([counter])
        count = 0 if existing is None else int(existing.properties["count"])  # type: ignore[arg-type]
        tx.put_many([Entity(counter, {"count": count + 1})])

    now = datetime(2030, 1, 1).astimezone()
    ran = await asyncio.gather(*(run_once(store, key, bump, now=now) for _ in range(4)))
    assert sorted(ran) == [False, False, False, True]
    (entity,) = await store.get_many([counter])
    assert entity is not None
    assert entity.properties["count"] == 1


operations = st.lists(
    st.tuples(st.sampled_from(["enqueue", "deliver"]), st.integers(0, 2), st.booleans()),
    min_size=1,
    max_size=12,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_any_interleaving_of_duplicates_has_exactly_one_effect(
    steps: list[tuple[str, int, bool]],
) -> None:
    """Each step enqueues task n (named, so deduplicated) or delivers it straight to the
    route as a duplicate would arrive; a True flag starts it beside the step before."""

    async def scenario(tmp: Path) -> None:
        async with running_app(tmp) as harness:
            batches: list[list[Any]] = []
            for action, n, alongside in steps:
                call = (
                    harness.tasks.enqueue("test_effect", {"key": f"k{n}"}, name=f"task-{n}")
                    if action == "enqueue"
                    else deliver(harness, f"task-{n}", f"k{n}")
                )
                if alongside and batches:
                    batches[-1].append(call)
                else:
                    batches.append([call])
            for batch in batches:
                await asyncio.gather(*batch)
            await eventually(lambda: drained(harness), what="the queue to drain")
            for n in {n for _, n, _ in steps}:
                assert await effect_count(harness.store, f"k{n}") == 1

    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(scenario(Path(tmp)))


async def test_enqueue_refuses_what_a_queue_would_refuse_later(tmp_path: Path) -> None:
    async with running_app(tmp_path) as harness:
        tasks = harness.tasks
        with pytest.raises(UnknownHandler, match="no_such_handler"):
            await tasks.enqueue("no_such_handler", {})
        with pytest.raises(UnknownQueue, match="not defined in queue"):
            await tasks.enqueue("test_noop", {}, queue="nowhere")
        with pytest.raises(BadTask, match="task name"):
            await tasks.enqueue("test_noop", {}, name="has spaces")
        with pytest.raises(BadTask, match="not JSON"):
            await tasks.enqueue("test_noop", {"when": datetime.now()})
        with pytest.raises(BadTask, match="JSON object"):
            await tasks.enqueue("test_noop", [1, 2])  # type: ignore[arg-type]
        with pytest.raises(BadTask, match="limit"):
            await tasks.enqueue("test_noop", {"blob": "x" * 1_000_001})
        with pytest.raises(BadTask, match="not both"):
            await tasks.enqueue("test_noop", {}, countdown=1, eta=datetime.now().astimezone())
        with pytest.raises(BadTask, match="timezone-aware"):
            await tasks.enqueue("test_noop", {}, eta=datetime.now())
        with pytest.raises(BadTask, match="negative"):
            await tasks.enqueue("test_noop", {}, countdown=-1)
        with pytest.raises(BadTask, match="at most 30 days"):
            await tasks.enqueue("test_noop", {}, countdown=timedelta(days=31))
