"""What a mutation leaves for the task queue once its transaction has committed.

There are no transactional enqueues on Cloud Tasks, so each mutation enqueues
after its commit, under a task name made from what happened. A client's retry
(same idempotency key) replays the outcome and enqueues again; the queue's
deduplication drops the second task, so a lost enqueue is repaired by a retry
and a duplicate costs nothing. Handlers are idempotent besides (tasks/).
"""

from __future__ import annotations

from datetime import datetime

from resolvers.context import RequestContext
from store import models, social_models
from store.keys import Key
from tasks.naming import task_name


def _micros(when: object) -> str:
    return str(int(when.timestamp() * 1_000_000)) if isinstance(when, datetime) else "0"


async def after_follow(context: RequestContext, follower_id: str, followee_id: str) -> None:
    edge = await context.loaders.entity(social_models.following_key(follower_id, followee_id))
    if edge is None or context.tasks is None:
        return
    # Named by this edge's creation, so following again after an unfollow backfills again.
    since = _micros(edge.properties.get("created_at"))
    await context.tasks.enqueue(
        "backfill_feed",
        {"follower": follower_id, "followee": followee_id},
        name=task_name("backfill", follower_id, followee_id, since),
    )
    await notify(context, followee_id, "FOLLOW", "", follower_id, since)


async def after_unfollow(context: RequestContext, follower_id: str, followee_id: str) -> None:
    if context.tasks is not None:
        await context.tasks.enqueue(
            "prune_feed", {"follower": follower_id, "followee": followee_id}
        )


async def notify(
    context: RequestContext, recipient: str, kind: str, subject: str, actor: str, *salt: str
) -> None:
    if context.tasks is None or recipient == actor:
        return
    await context.tasks.enqueue(
        "notify",
        {"recipient": recipient, "kind": kind, "subject": subject, "actor": actor},
        name=task_name("notify", recipient, kind, subject, actor, *salt),
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
