"""The real app with one step made to hang, for tests that kill it there (SIGKILL).

    python -c "from tests.utils.crash_points import main; main()" --port 8123 --hang relay

`--hang` picks the step, each reached through a port, never a branch in our code:

    relay        the queue's add never returns: the mutation has committed, its
                 outbox records are written, nothing is enqueued yet
    after-add    the queue adds the task, then never returns: enqueued, but the
                 outbox records are not deleted
    feed-write   the store never finishes writing FeedItems: a fan-out or backfill
                 task is cut off in its handler
    push-receipt the store never finishes writing a push receipt (or any IdempotencyRecord
                 outside a transaction): the push went out, its receipt did not
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence

from app import create_app, make_store
from store.port import Entity, Store
from store.sqlite_db import shared_database
from taskqueue.port import EnqueueResult, TaskQueue, TaskRequest
from tests.test_uploads_atomicity import FlakyCommits

HANGS = ("relay", "after-add", "feed-write", "push-receipt", "none")


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


class HangingWrites(FlakyCommits):
    """The store port, whose plain writes of one kind never finish."""

    def __init__(self, inner: Store, kind: str) -> None:
        super().__init__(inner)
        self.kind = kind

    async def put_many(self, entities: Sequence[Entity]) -> None:
        if any(entity.key.kind == self.kind for entity in entities):
            await hang_forever()
        await self.inner.put_many(entities)


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
    elif args.hang == "push-receipt":
        store = HangingWrites(store, "IdempotencyRecord")
    layer = None
    if args.hang in ("relay", "after-add"):
        after_add = args.hang == "after-add"

        def layer(inner: TaskQueue) -> TaskQueue:
            return HangingQueue(inner, after_add=after_add)

    app = create_app(settings, store=store, queue_layer=layer)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")
