"""What the embedded pull queue adds to the contract: names that keep a task from
being queued twice, attempts counted, and leases that hold across processes (worker
processes beside a server that holds the file's lock)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from store.sqlite_db import SQLiteDatabase
from store.sqlite_lock import claim_file
from taskqueue.pull.embedded import EmbeddedPullQueue
from taskqueue.pull.port import PullTask

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def run_workers(path: Path, count: int) -> list[str]:
    """Start `count` worker processes, let them go at one moment; what each printed."""
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.utils.pull_lease_main", str(path), "7"],
            cwd=PROJECT_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    for worker in workers:
        assert worker.stdout is not None
        assert worker.stdout.readline() == "ready\n"
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    outputs = [worker.communicate(timeout=120)[0] for worker in workers]
    assert [worker.returncode for worker in workers] == [0] * count
    return outputs


@pytest.fixture
def database(tmp_path: Path) -> SQLiteDatabase:
    return SQLiteDatabase(tmp_path / "timeline.db")


async def test_a_name_still_queued_or_leased_is_not_added_again(database: SQLiteDatabase) -> None:
    queue = EmbeddedPullQueue(database)
    assert await queue.add_many([PullTask("t", b"1", "a"), PullTask("t", b"2", "b")]) == 2
    assert await queue.add_many([PullTask("t", b"3", "a")]) == 0

    (leased,) = await queue.lease(1, 60, tag="t")
    assert (leased.name, leased.payload) == ("a", b"1")
    assert await queue.add_many([PullTask("t", b"4", "a")]) == 0
    assert await queue.pending() == 2

    await queue.ack([leased])
    assert await queue.pending() == 1
    assert await queue.add_many([PullTask("t", b"5", "a")]) == 1  # done: a new task


async def test_every_lease_of_a_task_counts_as_an_attempt(database: SQLiteDatabase) -> None:
    now = [1000.0]
    queue = EmbeddedPullQueue(database, clock=lambda: now[0])
    await queue.add_many([PullTask("t", b"", "a")])

    first = await queue.lease(1, 10)
    now[0] += 11
    second = await queue.lease(1, 10)
    await queue.ack(first)  # too late: the task is someone else's now

    assert [task.attempt for task in first + second] == [1, 2]
    assert await queue.pending() == 1
    await queue.ack(second)
    assert await queue.pending() == 0


@pytest.mark.slow
async def test_worker_processes_beside_the_server_lease_each_task_once(
    database: SQLiteDatabase,
) -> None:
    queue = EmbeddedPullQueue(database)
    await queue.add_many([PullTask("t", b"", f"task-{n:03d}") for n in range(300)])
    path = Path(database.path)
    with claim_file(path, shared=False):  # as a running server holds it
        outputs = await asyncio.to_thread(run_workers, path, 3)

    acked = Counter(name for output in outputs for name in output.split())
    assert set(acked) == {f"task-{n:03d}" for n in range(300)}
    assert max(acked.values()) == 1
    assert all(output.split() for output in outputs), "every worker got some of the work"
    assert await queue.pending() == 0
