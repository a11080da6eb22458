"""Folding counters (store/counters.py): deltas into each counter's total.

    fold_counter   {counter}   this counter's deltas into its total (one a bucket)
    fold_counters  (cron)      any delta older than STALE_DELTA whose task was lost,
                               and any legacy shard still pending

`fold_counter` pages the counter's deltas (oldest first) and folds each page in
a transaction that adds them to the total and deletes them, so a delta counts
once however often the task runs, and however many of the counter's folds run
at once (their transactions conflict on the total; the one retried finds the
deltas the other folded gone). The cron job also folds the shards the code
before one entity per counter left pending (`fold_legacy_shards`, which every
process runs at start too): a global query, oldest first, each counter in a
transaction of its own. A counter's value is the same before and after a legacy
fold, and a fold racing it makes one of the two transactions retry, so nothing
is counted twice or lost. Running it twice for one slot folds nothing more.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import datetime, timedelta

from store import counters
from store.errors import StoreUnavailable, TransactionConflict
from store.models import sort_key
from store.port import MAX_BATCH, Position, Store
from store.transactions import run_in_transaction
from taskqueue.context import JobContext, TaskContext
from taskqueue.registry import Payload, cron_job, task_handler

# A delta this old has missed its bucket's task (the enqueue after its commit was
# lost); the cron job folds it.
STALE_DELTA = timedelta(minutes=1)
# How long a process's start waits for the legacy fold: a store that does not
# answer by then leaves the fold to the cron job rather than keep the process down.
START_FOLD_SECONDS = 30.0

log = logging.getLogger("timeline.counters")


@task_handler("fold_counter")
async def fold_counter(payload: Payload, ctx: TaskContext) -> None:
    await fold_deltas(ctx.store, str(payload["counter"]), ctx.clock())


async def fold_deltas(store: Store, name: str, now: datetime) -> None:
    while batch := await store.page(counters.deltas_of(name), limit=counters.FOLD_BATCH):
        folded = await run_in_transaction(
            store,
            functools.partial(
                counters.fold_deltas, name=name, keys=[r.entity.key for r in batch], now=now
            ),
        )
        if folded == 0:
            return  # what the query still shows was folded already (an index lagging)


async def fold_legacy_shards(store: Store, now: datetime) -> None:
    """Folds every shard the code before one entity per counter left pending
    into its counter's total (store/counters.py: the upgrade)."""
    folded: set[str] = set()
    while pending := await store.page(counters.pending_shards(), limit=MAX_BATCH):
        names = dict.fromkeys(str(r.entity.properties["counter"]) for r in pending)
        if folded.issuperset(names):
            return  # what the query still shows was folded already (an index lagging)
        for name in (name for name in names if name not in folded):
            await run_in_transaction(
                store, functools.partial(counters.fold_shards, name=name, now=now)
            )
        folded.update(names)


async def fold_legacy_shards_at_start(store: Store, now: datetime) -> None:
    """`fold_legacy_shards` before a process serves (app.py). A store that fails
    or does not answer leaves the legacy shards to the cron job: their counts
    show late (at its next run), but a process that cannot start serves nobody."""
    try:
        await asyncio.wait_for(fold_legacy_shards(store, now), START_FOLD_SECONDS)
    except (StoreUnavailable, TransactionConflict, TimeoutError) as error:
        log.warning(
            "counter shards left pending by an older version were not folded at start "
            "(%s: %s); the fold_counters cron job folds them, and until then those "
            "counts show low",
            type(error).__name__,
            error,
        )


@cron_job("fold_counters")
async def fold_counters(ctx: JobContext) -> None:
    now = ctx.clock()
    stale = await ctx.store.page(
        counters.all_deltas(), limit=MAX_BATCH, before=Position(sort_key(now - STALE_DELTA, ""))
    )
    for name in dict.fromkeys(str(r.entity.properties["counter"]) for r in stale):
        await fold_deltas(ctx.store, name, now)
    await fold_legacy_shards(ctx.store, now)
