"""Pull queues for the tests: the embedded one on a file, or Pub/Sub on the emulator,
each test on a topic and subscription of its own; and `let_pass`, the time a test
waits for leases to expire."""

from __future__ import annotations

import asyncio
import time
import uuid
import weakref
from pathlib import Path

import pytest

from store.sqlite_db import SQLiteDatabase
from taskqueue.pull.embedded import EmbeddedPullQueue
from taskqueue.pull.port import PullQueue
from taskqueue.pull.pubsub import PubSubPullQueue
from tests.utils.pubsub_emulator import PROJECT_ID, PubSubEmulator

# The Pub/Sub half needs the emulator: marked so that `make test-fast` leaves it out.
PULL_QUEUE_KINDS = ["embedded", pytest.param("pubsub", marks=pytest.mark.datastore)]


class _MovableSeconds:
    """Seconds since the epoch, ahead of the wall clock by what tests let pass."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def __call__(self) -> float:
        return time.time() + self.ahead


_clocks: weakref.WeakKeyDictionary[PullQueue, _MovableSeconds] = weakref.WeakKeyDictionary()


async def let_pass(queue: PullQueue, seconds: float) -> None:
    """`seconds` pass for `queue`'s leases: on its clock if it is an embedded queue
    made here, in real time on Pub/Sub, whose emulator keeps the time itself."""
    clock = _clocks.get(queue)
    if clock is None:
        await asyncio.sleep(seconds)
    else:
        clock.ahead += seconds


async def make_pull_queue(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> PullQueue:
    if kind == "embedded":
        clock = _MovableSeconds()
        embedded = EmbeddedPullQueue(SQLiteDatabase(tmp_path / "timeline.db"), clock=clock)
        _clocks[embedded] = clock
        return embedded
    emulator: PubSubEmulator = request.getfixturevalue("pubsub_emulator")
    suffix = uuid.uuid4().hex[:12]
    queue = PubSubPullQueue(
        PROJECT_ID,
        f"pull-{suffix}",
        f"pull-worker-{suffix}",
        publisher=emulator.publisher(),
        subscriber=emulator.subscriber(),
    )
    await queue.ensure()
    return queue
