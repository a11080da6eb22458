"""The real app with one step made to hang, for tests that kill it there (SIGKILL).

    python -c "from tests.utils.crash_points import main; main()" --port 8123 --hang relay

`--hang` picks the step, each reached through a port, never a branch in our code:

    relay        the queue's add never returns: the mutation has committed, its
                 outbox records are written, nothing is enqueued yet
    after-add    the queue adds the task, then never returns: enqueued, but the
                 outbox records are not deleted
    feed-write   the store never finishes writing FeedItems: a fan-out or backfill
                 task is cut off in its handler
    fan-in-commit a fan_in task's transaction commits (notifications, the FanInMark)
                 and never returns: the rest of the run never happens
    push-recorded a push task's receipt commits with the devices done (and the
                 PushStatus) and never returns: the queue never hears the task ended
    upload-blobs a createPhoto's blob files are written and the write never reports
                 done: its StrayBlob record is committed, its Photo never is
    upload-blobs-ahead the same for every createPhoto but the first, which posts
                 and so fills this process's records written ahead: the next one
                 takes one of those (resolvers/upload_records.py)
    queued-batch the clock stands still, so every action falls in one time bucket
                 and no batched task comes due: the first action's relay queues
                 them, later actions skip them (tasks/queued_names.py); an add of a
                 name added before never returns, so an action that did not skip
                 leaves its outbox records behind
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import Future
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from app import create_app, make_store
from clock import Clock, system_clock
from media.local_blobs import LocalBlobStore
from store.activity_models import FAN_IN_MARK
from store.device_models import PUSH_STATUS
from store.port import Entity, Store, Transaction
from store.sqlite_db import shared_database
from taskqueue.port import EnqueueResult, TaskQueue, TaskRequest
from tests.test_hot_groups import GroupRecorder
from tests.test_uploads_atomicity import FlakyCommits

HANGS = (
    "relay",
    "after-add",
    "feed-write",
    "fan-in-commit",
    "push-recorded",
    "queued-batch",
    "upload-blobs",
    "upload-blobs-ahead",
    "none",
)
AFTER_COMMIT = {"fan-in-commit": FAN_IN_MARK, "push-recorded": PUSH_STATUS}


async def hang_forever() -> None:
    await asyncio.Event().wait()


class HangingQueue(TaskQueue):
    def __init__(self, inner: TaskQueue, *, after_add: bool) -> None:
        self.inner = inner
        self.after_add = after_add

    async def add(self, request: TaskRequest) -> EnqueueResult:
        if self.after_add:
            await self.inner.add(request)
        await hang_forever()
        raise AssertionError("unreachable")


class HangingRepeats(TaskQueue):
    """The queue, except that an add of a name it was asked for before never returns."""

    def __init__(self, inner: TaskQueue) -> None:
        self.inner = inner
        self.asked: set[str] = set()

    async def add(self, request: TaskRequest) -> EnqueueResult:
        if request.name is not None:
            if request.name in self.asked:
                await hang_forever()
            self.asked.add(request.name)
        return await self.inner.add(request)


class BlobsWrittenThenHanging(LocalBlobStore):
    """Files under var/media, whose upload writes finish and are never reported
    done (after the first `finished` uploads, which finish)."""

    def __init__(self, root: Path, *, finished: int = 0) -> None:
        super().__init__(root)
        self.finished = finished

    def start_put_many(self, blobs: Mapping[str, tuple[bytes, str]]) -> Future[None]:
        if self.finished > 0:
            self.finished -= 1
            return super().start_put_many(blobs)
        super().start_put_many(blobs).result()  # on the image thread: on disk now
        return Future()


class HangingWrites(FlakyCommits):
    """The store port, whose plain writes of one kind never finish."""

    def __init__(self, inner: Store, kind: str) -> None:
        super().__init__(inner)
        self.kind = kind

    async def put_many(self, entities: Sequence[Entity]) -> None:
        if any(entity.key.kind == self.kind for entity in entities):
            await hang_forever()
        await self.inner.put_many(entities)


class HangingAfterCommit(GroupRecorder):
    """The store port, whose transactions that write one kind commit, then never return."""

    def __init__(self, inner: Store, kind: str) -> None:
        super().__init__(inner)
        self.kind = kind

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with super().transaction() as tx:
            yield tx
        if self.kind in self.recorded[-1].kinds_written:
            await hang_forever()


def main() -> None:
    import uvicorn

    from settings import load_settings

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--hang", choices=HANGS, default="none")
    args = parser.parse_args()
    settings = load_settings()
    store = make_store(settings, shared_database(settings.sqlite_path))
    if args.hang == "feed-write":
        store = HangingWrites(store, "FeedItem")
    elif args.hang in AFTER_COMMIT:
        store = HangingAfterCommit(store, AFTER_COMMIT[args.hang])
    layer: Callable[[TaskQueue], TaskQueue] | None = None
    clock: Clock = system_clock
    if args.hang in ("relay", "after-add"):
        after_add = args.hang == "after-add"

        def layer(inner: TaskQueue) -> TaskQueue:
            return HangingQueue(inner, after_add=after_add)

    elif args.hang == "queued-batch":
        layer = HangingRepeats
        started = system_clock()

        def clock() -> datetime:
            return started

    blobs = None
    if args.hang in ("upload-blobs", "upload-blobs-ahead"):
        finished = 1 if args.hang == "upload-blobs-ahead" else 0
        blobs = BlobsWrittenThenHanging(settings.var_dir / "media", finished=finished)
    app = create_app(settings, store=store, blobs=blobs, queue_layer=layer, clock=clock)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")
