"""The pull-queue contract, on the embedded queue and on Pub/Sub (its emulator):
lease N for T seconds, acknowledge, expiry hands tasks back, tags, extend, release."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from taskqueue.pull.port import Leased, PullQueue, PullTask
from tests.utils.pull_queues import PULL_QUEUE_KINDS, let_pass, make_pull_queue

SHORT = 3.0  # seconds: a lease the tests outlive (an empty Pub/Sub pull takes about 1 s)
LONG = 60.0  # a lease no test outlives


@pytest.fixture(params=PULL_QUEUE_KINDS)
async def queue(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[PullQueue]:
    instance = await make_pull_queue(request.param, request, tmp_path)
    yield instance
    await instance.close()


def tasks(tag: str, count: int, start: int = 0) -> list[PullTask]:
    return [
        PullTask(tag, f"{tag}-{n}".encode(), name=f"{tag}-{n}") for n in range(start, start + count)
    ]


def names(leased: Sequence[Leased]) -> set[str]:
    return {task.name for task in leased}


async def lease_all(queue: PullQueue, seconds: float, tag: str | None = None) -> list[Leased]:
    """Everything available now (a Pub/Sub pull may answer with part of it). The
    leases must outlast the loop, or it would meet its own expired tasks again."""
    assert seconds >= LONG
    found: list[Leased] = []
    while batch := await queue.lease(100, seconds, tag):
        found += batch
    return found


async def lease_count(queue: PullQueue, count: int, seconds: float) -> list[Leased]:
    """`count` tasks known to be available, however many pulls that takes."""
    found: list[Leased] = []
    for _ in range(5):
        found += await queue.lease(count - len(found), seconds)
        if len(found) == count:
            break
    assert len(found) == count, found
    return found


async def test_a_lease_takes_at_most_n_and_never_a_task_already_held(queue: PullQueue) -> None:
    await queue.add_many(tasks("t", 7))

    first = await queue.lease(3, LONG)
    rest = await lease_all(queue, LONG)

    assert len(first) == 3
    assert names(first) | names(rest) == {f"t-{n}" for n in range(7)}
    assert not names(first) & names(rest)
    assert {task.payload for task in first} == {name.encode() for name in names(first)}
    assert all(task.tag == "t" for task in first + rest)


async def test_acknowledged_tasks_are_gone_and_expired_leases_come_back(queue: PullQueue) -> None:
    await queue.add_many(tasks("t", 4))
    leased = await lease_count(queue, 4, SHORT)
    done, unfinished = leased[:2], leased[2:]

    await queue.ack(done)
    assert await queue.lease(10, LONG) == []  # the other two are still held
    await let_pass(queue, SHORT + 1)

    again = await lease_all(queue, LONG)
    assert names(again) == names(unfinished)
    await queue.ack(again)
    await let_pass(queue, SHORT + 1)
    assert await lease_all(queue, LONG) == []


async def test_a_lease_by_tag_takes_only_that_tag_and_leaves_the_others(queue: PullQueue) -> None:
    await queue.add_many(tasks("small", 3) + tasks("large", 3) + tasks("small", 2, start=3))

    small = await lease_all(queue, LONG, tag="small")
    large = await lease_all(queue, LONG, tag="large")

    assert names(small) == {f"small-{n}" for n in range(5)}
    assert names(large) == {f"large-{n}" for n in range(3)}
    assert await queue.lease(10, LONG) == []


async def test_an_extended_lease_outlives_its_first_term(queue: PullQueue) -> None:
    await queue.add_many(tasks("t", 2))
    leased = await lease_count(queue, 2, SHORT)

    await queue.extend(leased[:1], LONG)
    await let_pass(queue, SHORT + 1)

    assert names(await lease_all(queue, LONG)) == names(leased[1:])


async def test_a_released_task_can_be_leased_again_at_once(queue: PullQueue) -> None:
    await queue.add_many(tasks("t", 3))
    leased = await lease_all(queue, LONG)

    await queue.release(leased[:1])

    assert names(await lease_all(queue, LONG)) == names(leased[:1])


async def test_lease_arguments_out_of_range_are_refused(queue: PullQueue) -> None:
    for n, seconds in ((0, LONG), (1001, LONG), (1, 0), (1, 601)):
        with pytest.raises(ValueError, match="lease"):
            await queue.lease(n, seconds)
