"""Pull queues for the tests: the embedded one on a file, or Pub/Sub on the emulator,
each test on a topic and subscription of its own."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from store.sqlite_db import SQLiteDatabase
from taskqueue.pull.embedded import EmbeddedPullQueue
from taskqueue.pull.port import PullQueue
from taskqueue.pull.pubsub import PubSubPullQueue
from tests.utils.pubsub_emulator import PROJECT_ID, PubSubEmulator

# The Pub/Sub half needs the emulator: marked so that `make test-fast` leaves it out.
PULL_QUEUE_KINDS = ["embedded", pytest.param("pubsub", marks=pytest.mark.datastore)]


async def make_pull_queue(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> PullQueue:
    if kind == "embedded":
        return EmbeddedPullQueue(SQLiteDatabase(tmp_path / "timeline.db"))
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
