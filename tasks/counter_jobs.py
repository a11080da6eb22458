"""fold_counters: keeps sharded counters cheap to read.

Every shard write marks its shard pending; this job pages the pending shards
(a global query, oldest first) and folds each of their counters in a
transaction of its own: the total takes the shards' counts and the shards go
back to zero. A counter's value is the same before and after a fold, and a
write racing a fold makes one of the two transactions retry, so nothing is
counted twice or lost. Running it twice for one slot folds nothing more.
"""

from __future__ import annotations

import functools

from store import counters
from store.port import MAX_BATCH
from store.transactions import run_in_transaction
from tasks.context import JobContext
from tasks.registry import cron_job


@cron_job("fold_counters")
async def fold_counters(ctx: JobContext) -> None:
    now = ctx.clock()
    while pending := await ctx.store.page(counters.pending_shards(), limit=MAX_BATCH):
        names = dict.fromkeys(str(r.entity.properties["counter"]) for r in pending)
        for name in names:
            await run_in_transaction(
                ctx.store, functools.partial(counters.fold, name=name, now=now)
            )
