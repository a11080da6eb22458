"""The first cron jobs. Each is called as `/_internal/cron/<job>` and must be safe
to run twice for one slot (App Engine may retry a cron request).

prune_idempotency_records
    Deletes every `IdempotencyRecord` (mutations' and tasks' alike, see
    store/models.py) whose `expires_at` is before the job's clock; both kinds of
    record expire 24 h after they are written. A global query ordered by
    `expires_key` (the expiry first) finds them, MAX_BATCH at a time. A record
    expiring at or after the clock stays. Running it again deletes nothing more.

reclaim_stray_blobs
    A `StrayBlob` (store/models.py) names blobs that no committed Photo may be
    using: an upload that never committed, or a deleted photo's images. Once the
    record is older than STRAY_BLOB_AGE (1 day, so an upload still in progress is
    never touched) its blobs are deleted through the blob port and then the
    record; a blob already gone is fine, so a run cut short is finished by the next.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from store import models
from store.keys import Key
from store.models import IDEMPOTENCY_RECORD, STRAY_BLOB, sort_key
from store.port import MAX_BATCH, Entity, Position, Query, Store
from taskqueue.context import JobContext
from taskqueue.registry import cron_job

STRAY_BLOB_AGE = timedelta(days=1)
log = logging.getLogger("timeline.tasks.jobs")


async def older_than(store: Store, kind: str, order_by: str, cutoff: datetime) -> list[Entity]:
    """Up to MAX_BATCH entities of `kind` whose `order_by` key (a models.sort_key)
    is strictly before `cutoff`, oldest first."""
    before = Position(sort_key(cutoff, ""))
    page = await store.page(
        Query(kind, order_by=order_by, descending=False), limit=MAX_BATCH, before=before
    )
    return [result.entity for result in page]


async def drain(
    store: Store,
    kind: str,
    order_by: str,
    cutoff: datetime,
    handle: Callable[[Sequence[Entity]], Awaitable[None]],
) -> int:
    """Hand every entity of `kind` older than `cutoff` to `handle`, which deletes
    them, a batch at a time. Stops if a page shows nothing new, so that a global
    query still returning deleted entities (eventual consistency) cannot spin."""
    seen: set[Key] = set()
    while True:
        batch = await older_than(store, kind, order_by, cutoff)
        fresh = [entity for entity in batch if entity.key not in seen]
        if not fresh:
            return len(seen)
        await handle(fresh)
        seen.update(entity.key for entity in fresh)


@cron_job("prune_idempotency_records")
async def prune_idempotency_records(ctx: JobContext) -> None:
    now = ctx.clock()

    async def delete(records: Sequence[Entity]) -> None:
        await ctx.store.delete_many([record.key for record in records])

    deleted = await drain(ctx.store, IDEMPOTENCY_RECORD, "expires_key", now, delete)
    log.info("pruned %d idempotency records that expired before %s", deleted, now.isoformat())


@cron_job("reclaim_stray_blobs")
async def reclaim_stray_blobs(ctx: JobContext) -> None:
    cutoff = ctx.clock() - STRAY_BLOB_AGE

    async def reclaim(records: Sequence[Entity]) -> None:
        names = [name for record in records for name in models.stray_blob_from_entity(record).names]
        if names:
            await ctx.blobs.delete(names)
        await ctx.store.delete_many([record.key for record in records])

    reclaimed = await drain(ctx.store, STRAY_BLOB, "sort_key", cutoff, reclaim)
    log.info("reclaimed %d stray blobs created before %s", reclaimed, cutoff.isoformat())
