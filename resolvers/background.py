"""What a mutation leaves for the task queue once its transaction has committed.

There are no transactional enqueues on Cloud Tasks, so each mutation enqueues
after its commit, under a task name made from what happened. A client's retry
(same idempotency key) replays the outcome and enqueues again; the queue's
deduplication drops the second task, so a lost enqueue is repaired by a retry
and a duplicate costs nothing. Handlers are idempotent besides (tasks/).

Likes, comments and follows ask for batched tasks instead (`after_fan_in`): one
per counter and per owner a time bucket, so that fifty actions a second on one
photo or user become about one write a second to any entity group.
"""

from __future__ import annotations

from resolvers.context import RequestContext
from store import models
from store.keys import Key
from tasks.batching import enqueue_batched
from tasks.naming import task_name


async def after_fan_in(
    context: RequestContext, *, owner: str | None = None, counters: tuple[str, ...] = ()
) -> None:
    """A like, comment or follow left records in its actor's group: a delta for
    each counter it changed, and an Activity for the owner it concerns. This asks
    for the tasks that fold them, one task per counter and per owner a time
    bucket however many actions ask (tasks/batching.py)."""
    if context.tasks is None:
        return
    for name in counters:
        await enqueue_batched(context.tasks, "fold_counter", {"counter": name}, name)
    if owner is not None:
        await enqueue_batched(context.tasks, "fan_in", {"owner": owner}, owner)


async def after_unfollow(context: RequestContext, follower_id: str, followee_id: str) -> None:
    if context.tasks is not None:
        await context.tasks.enqueue(
            "prune_feed", {"follower": follower_id, "followee": followee_id}
        )


async def after_photo_created(context: RequestContext, photo: models.Photo) -> None:
    if context.tasks is not None:
        await context.tasks.enqueue(
            "fanout_photo",
            {"photo": photo.key.encode(), "sort_key": photo.sort_key, "batch": 0},
            name=task_name("fanout_photo", photo.key.encode(), "0"),
        )


async def after_photo_deleted(context: RequestContext, photo: Key) -> None:
    if context.tasks is not None:
        await context.tasks.enqueue(
            "unfanout_photo",
            {"photo": photo.encode(), "batch": 0},
            name=task_name("unfanout_photo", photo.encode(), "0"),
        )
