"""Re-render every photo's derivatives after the image pipeline changed, through a
pull queue, by worker processes apart from the server.

    python -m tasks.rerender enqueue      one pull task per photo below RENDER_VERSION
    python -m tasks.rerender work         lease, re-render, acknowledge, until done

`enqueue` pages every photo (a global query) and adds a task per photo still cut by
an older pipeline, named after the photo and the version, so enqueueing again while
tasks wait adds nothing (on the embedded queue; on Pub/Sub a repeat is skipped by
the worker). `work` leases batches (tag `rerender`), re-renders each photo
(tasks/rerender_photo.py) and acknowledges it at once, so a killed worker loses only
its unfinished leases, which come back when they expire and are finished by the
next worker (several may run at once). A photo already at the version is skipped,
so a task run twice changes nothing. It stops once the queue has stayed empty for
--idle-seconds (by default a little longer than a lease, so that it finishes what a
dead worker left), prints its progress, and ends with a summary.

Settings as the app's (TIMELINE_*): the store, the blob store, the media limits,
and TIMELINE_PULL_QUEUE (embedded | pubsub). On the embedded store the workers use
the server's file beside it; the server's one-process lock is not theirs to take.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cache.wiring import cached_store
from media.derivatives import RENDER_VERSION
from media.wiring import blob_store_from_settings, media_from_settings
from settings import Settings, load_settings
from store import models
from store.keys import Key
from store.port import MAX_BATCH, Position, Query, Store
from store.sqlite_db import shared_database
from taskqueue.pull.port import Leased, PullQueue, PullTask
from taskqueue.pull.wiring import pull_queue_from_settings
from tasks.rerender_photo import Outcome, PhotoRenderer
from tasks.rerender_progress import Progress, Summary

TAG = "rerender"
GIVE_UP_AFTER_ATTEMPTS = 5  # leases of one task that ended in an error
log = logging.getLogger("timeline.rerender")
QueueLayer = Callable[[PullQueue], PullQueue]


def task_for(photo: models.Photo, version: int = RENDER_VERSION) -> PullTask:
    payload = json.dumps({"owner": photo.owner_id, "photo": photo.id}).encode()
    return PullTask(TAG, payload, name=f"rerender-v{version}-{photo.owner_id}-{photo.id}")


def photo_key_of(task: Leased) -> Key:
    body = json.loads(task.payload)
    return models.photo_key(str(body["owner"]), str(body["photo"]))


async def enqueue(store: Store, queue: PullQueue, version: int = RENDER_VERSION) -> tuple[int, int]:
    """(photos seen, tasks added): a task for each photo with images below `version`."""
    query = Query(models.PHOTO, order_by="sort_key")
    after: Position | None = None
    seen = added = 0
    while page := await store.page(query, limit=MAX_BATCH, after=after):
        photos = [models.photo_from_entity(result.entity) for result in page]
        seen += len(photos)
        stale = [task_for(p, version) for p in photos if p.images and p.render_version < version]
        if stale:
            added += await queue.add_many(stale)
        after = page[-1].position
    return seen, added


@dataclass(frozen=True)
class WorkOptions:
    batch: int = 10
    lease_seconds: float = 120.0
    idle_seconds: float | None = None  # None: a lease and a little more
    poll_seconds: float = 1.0


async def work(
    queue: PullQueue, renderer: PhotoRenderer, options: WorkOptions, progress: Progress
) -> Summary:
    idle = options.idle_seconds
    idle = options.lease_seconds + 5 if idle is None else idle
    idle_since: float | None = None
    progress.expect(await queue.pending(TAG))
    while True:
        leased = await queue.lease(options.batch, options.lease_seconds, tag=TAG)
        if not leased:
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= idle:
                progress.finish()
                return progress.summary
            await asyncio.sleep(options.poll_seconds)
            continue
        idle_since = None
        await _work_on(queue, renderer, leased, options, progress)


async def _work_on(
    queue: PullQueue,
    renderer: PhotoRenderer,
    leased: Sequence[Leased],
    options: WorkOptions,
    progress: Progress,
) -> None:
    renewed_at = time.monotonic()
    for index, task in enumerate(leased):
        if time.monotonic() - renewed_at > options.lease_seconds / 2:
            await queue.extend(leased[index:], options.lease_seconds)
            renewed_at = time.monotonic()
        try:
            outcome = await renderer.rerender(photo_key_of(task))
        except Exception:
            log.exception("re-rendering %s failed (attempt %d)", task.name, task.attempt)
            if task.attempt < GIVE_UP_AFTER_ATTEMPTS:
                progress.record_retry()
                continue  # its lease runs out and it comes back
            log.error("giving up on %s after %d attempts", task.name, task.attempt)
            outcome = Outcome.FAILED
        await queue.ack([task])
        progress.record(outcome)


async def _open_store(settings: Settings) -> Store:
    if settings.store == "datastore":
        from store.datastore import DatastoreStore

        return DatastoreStore(settings.datastore_project, namespace=settings.datastore_namespace)
    from store.sqlite import SQLiteStore

    if not settings.sqlite_path.exists():
        raise SystemExit(f"{settings.sqlite_path} does not exist; has the app run here?")
    return SQLiteStore(shared_database(settings.sqlite_path))


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tasks.rerender", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("enqueue", help="a task per photo that needs re-rendering")
    worker = commands.add_parser("work", help="lease and re-render until the queue is empty")
    worker.add_argument("--batch", type=int, default=WorkOptions.batch, help="tasks per lease")
    worker.add_argument("--lease-seconds", type=float, default=WorkOptions.lease_seconds)
    worker.add_argument(
        "--idle-seconds", type=float, help="stop after the queue stayed empty this long"
    )
    return parser.parse_args(argv)


async def run(
    args: argparse.Namespace, settings: Settings, queue_layer: QueueLayer | None = None
) -> int:
    """`queue_layer` wraps the pull queue (tests make a step of it hang there)."""
    # Through the cache, so that on Redis the servers' cached photos end with each write.
    store = cached_store(await _open_store(settings), settings)
    queue = await pull_queue_from_settings(settings, shared_database(settings.sqlite_path))
    queue = queue_layer(queue) if queue_layer is not None else queue
    try:
        if args.command == "enqueue":
            seen, added = await enqueue(store, queue)
            print(f"{seen} photos, {added} tasks added for render version {RENDER_VERSION}")
            return 0
        blobs = blob_store_from_settings(settings)
        renderer = PhotoRenderer(store, blobs, media_from_settings(settings, blobs).pipeline)
        options = WorkOptions(args.batch, args.lease_seconds, args.idle_seconds)
        summary = await work(queue, renderer, options, Progress(sys.stderr))
        print(summary.line())
        return 1 if summary.failed else 0
    finally:
        await queue.close()
        await store.close()


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return asyncio.run(run(arguments(argv), load_settings()))


if __name__ == "__main__":
    raise SystemExit(main())
