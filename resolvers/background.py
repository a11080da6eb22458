"""The follow-up work each mutation leaves for the task queue, as outbox items.

An effect adds these to its transaction's `Outbox` (tasks/outbox.py), so they
commit with the effect and are relayed to the queue after it. Each task is named
after what happened, so a relay repeated by the sweeper collapses into one task;
handlers are idempotent besides (tasks/).

Likes, comments and follows ask for batched tasks (`after_fan_in`): one per
counter and per owner a time bucket, so that fifty actions a second on one
photo or user become about one write a second to any entity group. The
follower's backfill is asked for by the followee's fan-in, once the followee's
half of the edge is written (tasks/fan_in.py).
"""

from __future__ import annotations

from datetime import datetime

from store import models
from store.keys import Key
from taskqueue.naming import task_name
from tasks.batching import batched
from tasks.counters import fold_all_follow_up
from tasks.outbox import FollowUp


def after_fan_in(owner: str | None, counters: tuple[str, ...], now: datetime) -> list[FollowUp]:
    """A like, comment or follow left records beside its actor's group: a delta
    for each counter it changed, and an Activity for the owner it concerns. These
    are the tasks that fold them: one for every counter and one per owner a time
    bucket, however many actions ask (tasks/batching.py, tasks/counters.py)."""
    return [
        *([fold_all_follow_up(now)] if counters else []),
        *([batched("fan_in", {"owner": owner}, owner, now=now)] if owner is not None else []),
    ]


def after_unfollow(follower_id: str, followee_id: str) -> list[FollowUp]:
    return [FollowUp("prune_feed", {"follower": follower_id, "followee": followee_id})]


def after_photo_created(photo: models.Photo) -> list[FollowUp]:
    return [
        FollowUp(
            "fanout_photo",
            {"photo": photo.key.encode(), "sort_key": photo.sort_key, "batch": 0},
            name=task_name("fanout_photo", photo.key.encode(), "0"),
        )
    ]


def after_photo_deleted(photo: Key) -> list[FollowUp]:
    return [
        FollowUp(
            "unfanout_photo",
            {"photo": photo.encode(), "batch": 0},
            name=task_name("unfanout_photo", photo.encode(), "0"),
        )
    ]
