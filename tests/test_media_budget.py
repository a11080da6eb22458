"""The image memory budget: bytes admitted in order, never more than the
capacity, a bounded wait, and a default derived from the instance's memory."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from media.budget import BUDGET_CAP, MIB, BudgetExhausted, MemoryBudget, default_budget


async def test_admits_up_to_the_capacity_and_then_makes_callers_wait() -> None:
    budget = MemoryBudget(100)
    await budget.acquire(60, wait_seconds=0)
    await budget.acquire(40, wait_seconds=0)
    with pytest.raises(BudgetExhausted):
        await budget.acquire(1, wait_seconds=0)
    assert (budget.admitted, budget.high_water) == (100, 100)


async def test_a_release_admits_waiters_first_come_first_served() -> None:
    budget = MemoryBudget(100)
    await budget.acquire(90, wait_seconds=0)
    admitted: list[str] = []

    async def wait_for(name: str, cost: int) -> None:
        await budget.acquire(cost, wait_seconds=60)
        admitted.append(name)

    large = asyncio.create_task(wait_for("large", 80))
    await asyncio.sleep(0)
    small = asyncio.create_task(wait_for("small", 10))
    await asyncio.sleep(0)
    # 10 bytes are free, but the large image asked first: the small one may not overtake it.
    assert admitted == []
    budget.release(90)
    await asyncio.gather(large, small)
    assert admitted == ["large", "small"]
    assert budget.high_water == 90


async def test_an_image_thread_takes_and_gives_back_bytes_only_when_nobody_waits() -> None:
    budget = MemoryBudget(100)
    assert await asyncio.to_thread(budget.try_acquire, 90)
    assert not await asyncio.to_thread(budget.try_acquire, 20)  # not free
    waiter = asyncio.create_task(budget.acquire(80, wait_seconds=60))
    await asyncio.sleep(0)
    # 10 bytes are free, but a waiter asked first; and its bytes are the loop's to give.
    assert not await asyncio.to_thread(budget.try_acquire, 10)
    assert not await asyncio.to_thread(budget.release_unless_awaited, 90)
    budget.release(90)
    await waiter
    assert await asyncio.to_thread(budget.release_unless_awaited, 80)
    assert budget.admitted == 0


async def test_a_waiter_that_gives_up_leaves_no_trace() -> None:
    budget = MemoryBudget(100)
    await budget.acquire(100, wait_seconds=0)
    waiter = asyncio.create_task(budget.acquire(50, wait_seconds=60))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    budget.release(100)
    assert budget.admitted == 0
    await budget.acquire(100, wait_seconds=0)  # nobody is queued ahead any more


async def test_many_concurrent_callers_never_exceed_the_capacity() -> None:
    budget = MemoryBudget(1000)
    done = 0

    async def work(cost: int) -> None:
        nonlocal done
        await budget.acquire(cost, wait_seconds=60)
        await asyncio.sleep(0)
        assert budget.admitted <= budget.capacity
        budget.release(cost)
        done += 1

    await asyncio.gather(*(work(100 + 37 * i % 500) for i in range(200)))
    assert done == 200
    assert budget.admitted == 0
    assert 0 < budget.high_water <= 1000


async def test_a_cost_over_the_capacity_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match="never fit"):
        await MemoryBudget(100).acquire(101, wait_seconds=60)


def test_the_default_is_half_of_what_app_engine_gives_the_instance(tmp_path: Path) -> None:
    # An F2 instance: 768 MB.
    assert default_budget({"GAE_MEMORY_MB": "768"}, tmp_path) == 384 * MIB


def test_the_default_follows_a_cgroup_limit(tmp_path: Path) -> None:
    (tmp_path / "memory.max").write_text(f"{1024 * MIB}\n")
    assert default_budget({}, tmp_path) == 512 * MIB
    (tmp_path / "memory.max").write_text("max\n")  # cgroup v2 without a limit: the RAM decides
    v1 = tmp_path / "memory"
    v1.mkdir()
    (v1 / "memory.limit_in_bytes").write_text(f"{600 * MIB}\n")
    assert default_budget({}, tmp_path) == 300 * MIB


def test_the_default_is_capped(tmp_path: Path) -> None:
    assert default_budget({"GAE_MEMORY_MB": str(64 * 1024)}, tmp_path) <= BUDGET_CAP
