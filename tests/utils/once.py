"""Doing a test handler's work once, although the queue may deliver it twice.

The queue tests count a handler's effects apart from its deliveries
(tests/utils/tasks_app.py): delivery is at least once, and a task can arrive
again after a timeout, a lost answer or a restart. `once_per_task` runs the
handler's writes in one store transaction together with an `IdempotencyRecord`
named after the task, so the second delivery finds the record and writes nothing.
The app's own handlers are idempotent by what they write (docs/ARCHITECTURE.md),
so this lives with the tests:

    @task_handler("count_like")
    async def count_like(payload: Payload, ctx: TaskContext) -> None:
        async def write(tx: Transaction) -> None:
            ...read with tx.get_many, write with tx.put_many...
        await once_per_task(ctx, write)

The records are the same kind, with the same fields, as the mutations' records
(store/models.py), so one cron job (`prune_idempotency_records`) expires both.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from store import models
from store.keys import Key
from store.port import Store, Transaction
from store.transactions import run_in_transaction
from tasks.context import TaskContext

RECORD_LIFETIME = timedelta(hours=24)  # far past any redelivery of one task


def task_record_key(queue: str, task_name: str) -> Key:
    return Key.of(models.IDEMPOTENCY_RECORD, f"task:{queue}/{task_name}")


async def run_once(
    store: Store,
    key: Key,
    work: Callable[[Transaction], Awaitable[None]],
    *,
    now: datetime,
    what: str = "task",
) -> bool:
    """Run `work` and record `key` in one transaction, unless `key` is recorded
    already; True if the work ran. Two racing duplicates cannot both commit: one
    waits for or conflicts with the other, and on its retry finds the record."""

    async def attempt(tx: Transaction) -> bool:
        (existing,) = await tx.get_many([key])
        if existing is not None:
            return False
        await work(tx)
        record = models.idempotency_record(key, what, "done", now, now + RECORD_LIFETIME)
        tx.put_many([record])
        return True

    return await run_in_transaction(store, attempt)


async def once_per_task(ctx: TaskContext, work: Callable[[Transaction], Awaitable[None]]) -> bool:
    """`run_once` keyed by this delivery's queue and task name."""
    key = task_record_key(ctx.info.queue, ctx.info.name)
    return await run_once(ctx.store, key, work, now=ctx.clock(), what=f"task:{ctx.info.handler}")
