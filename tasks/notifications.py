"""Writing one event's notification into its recipient's entity group, coalesced.

    notify {recipient, kind, subject, actor}

Likes, comments and follows no longer enqueue this (one write to the owner's
group per action is what tasks/fan_in.py batches away); it stays so that
`notify` tasks already queued when this version is deployed still run.

No one is notified of their own actions. The actor set makes a duplicate
delivery a no-op, so the handler needs no idempotency record.

Then the recipient's devices get a push (tasks/push_notifications.py). It is enqueued even
when this delivery changed nothing: the first may have committed and died before
enqueueing, and the push task's name (the notification's version) makes the
second enqueue of one version a no-op.
"""

from __future__ import annotations

from store.notification_models import (
    KINDS,
    Notification,
    current_notifications,
    save_notifications,
)
from store.port import Transaction
from store.transactions import run_in_transaction
from taskqueue.context import TaskContext
from taskqueue.registry import Payload, task_handler
from tasks.push_notifications import enqueue_push


@task_handler("notify")
async def notify(payload: Payload, ctx: TaskContext) -> None:
    recipient, actor = str(payload["recipient"]), str(payload["actor"])
    kind, subject = str(payload["kind"]), str(payload.get("subject") or "")
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    if recipient == actor:
        return
    now = ctx.clock()

    async def record(tx: Transaction) -> Notification:
        [notice] = await current_notifications(tx, recipient, [(kind, subject)])
        if notice.add_actor(actor, now):
            save_notifications(tx, [notice])  # a new item at the top; the old one goes
        return notice

    await enqueue_push(ctx.tasks, await run_in_transaction(ctx.store, record))
