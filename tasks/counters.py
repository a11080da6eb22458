"""Folding counters (store/counters.py): deltas into each counter's total.

    fold_all_counters  {}         every counter's deltas into its total (one a bucket)
    fold_counter       {counter}  this counter's deltas (tasks queued before
                                  fold_all_counters; nothing asks for it now)
    fold_counters      (cron)     any delta older than STALE_DELTA whose task was
                                  lost, and any legacy shard still pending

A like, comment or follow asks for the one `fold_all_counters` task of its time
bucket, whatever counters it changed: under load the actions of one second touch
hundreds of counters (a photo each), and a task per counter and bucket was
about a task per action, each a lease, a delivery through the app, a run-log
line and an ack besides its fold. The one run pages every counter's deltas
(oldest first, one query) and folds each counter's in transactions of their own,
a few counters at once, so the folds themselves are as before: each adds its
deltas to the total and deletes them, so a delta counts once however often the
task runs, and however many folds of a counter run at once (their transactions
conflict on the total; the one retried finds the deltas the other folded gone).
The cron job also folds the shards the code before one entity per counter left
pending (`fold_legacy_shards`, which every process runs at start too): a global
query, oldest first, each counter in a transaction of its own. A counter's value
is the same before and after a legacy fold, and a fold racing it makes one of
the two transactions retry, so nothing is counted twice or lost. Running it
twice for one slot folds nothing more.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from store import counters
from store.errors import StoreUnavailable, TransactionConflict
from store.keys import Key
from store.models import sort_key
from store.port import MAX_BATCH, Position, Result, Store
from store.transactions import run_in_transaction
from taskqueue.context import JobContext, TaskContext
from taskqueue.registry import Payload, cron_job, task_handler
from tasks.batching import batched, enqueue_batched
from tasks.outbox import FollowUp

# A delta this old has missed its bucket's task (the enqueue after its commit was
# lost); the cron job folds it.
STALE_DELTA = timedelta(minutes=1)
# How long a process's start waits for the legacy fold: a store that does not
# answer by then leaves the fold to the cron job rather than keep the process down.
START_FOLD_SECONDS = 30.0

log = logging.getLogger("timeline.counters")


FOLD_ALL = "fold_all_counters"
# Deltas a run of fold_all_counters reads at once, and pages it folds before it
# leaves the rest to the next bucket's run (about 10,000 deltas: seconds of work).
FOLD_ALL_PAGE = MAX_BATCH
FOLD_ALL_PAGES = 20
# Counters folded at once: each fold is a transaction of its own (no two share an
# entity group), so on Datastore they overlap their round trips.
FOLDS_AT_ONCE = 8


def fold_all_follow_up(now: datetime) -> FollowUp:
    """What an action that changed counters adds to its outbox: this bucket's
    `fold_all_counters` task, one for every action and counter in the bucket."""
    return batched(FOLD_ALL, {}, now=now)


@task_handler(FOLD_ALL)
async def fold_all_counters(payload: Payload, ctx: TaskContext) -> None:
    for _ in range(FOLD_ALL_PAGES):
        page = await ctx.store.page(counters.all_deltas(), limit=FOLD_ALL_PAGE)
        folded = await fold_page(ctx.store, page, ctx.clock())
        if folded == 0 or len(page) < FOLD_ALL_PAGE:
            # All seen is folded (or was already: an index lagging behind the
            # deletes); what came in since is its own bucket's task's.
            return
    await enqueue_batched(ctx.tasks, FOLD_ALL, {}, now=ctx.clock())


async def fold_page(store: Store, page: Sequence[Result], now: datetime) -> int:
    """Folds the deltas of `page` into their counters' totals, FOLD_BATCH deltas a
    transaction and FOLDS_AT_ONCE counters at once; how many were still there."""
    by_counter: dict[str, list[Key]] = {}
    for result in page:
        by_counter.setdefault(str(result.entity.properties["counter"]), []).append(
            result.entity.key
        )
    slots = asyncio.Semaphore(FOLDS_AT_ONCE)

    async def fold(name: str, keys: list[Key]) -> int:
        async with slots:
            folded = 0
            for start in range(0, len(keys), counters.FOLD_BATCH):
                batch = keys[start : start + counters.FOLD_BATCH]
                folded += await run_in_transaction(
                    store, functools.partial(counters.fold_deltas, name=name, keys=batch, now=now)
                )
            return folded

    return sum(await asyncio.gather(*(fold(n, keys) for n, keys in by_counter.items())))


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
