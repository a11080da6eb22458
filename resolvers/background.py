"""The follow-up work each mutation leaves for the task queue, as outbox items.

An effect adds these to its transaction's `Outbox` (tasks/outbox.py), so they
commit with the effect and are relayed to the queue after it. Each task is named
after what happened, so a relay repeated by the sweeper collapses into one task;
handlers are idempotent besides (tasks/).
"""

from __future__ import annotations

from datetime import datetime

from store import models
from store.keys import Key
from tasks.naming import task_name
from tasks.outbox import FollowUp


def _micros(when: datetime) -> str:
    return str(int(when.timestamp() * 1_000_000))


def after_follow(follower_id: str, followee_id: str, since: datetime) -> list[FollowUp]:
    """`since`: the edge's creation, so following again after an unfollow backfills again."""
    stamp = _micros(since)
    backfill = FollowUp(
        "backfill_feed",
        {"follower": follower_id, "followee": followee_id},
        name=task_name("backfill", follower_id, followee_id, stamp),
    )
    return [backfill, *notify(followee_id, "FOLLOW", "", follower_id, stamp)]


def after_unfollow(follower_id: str, followee_id: str) -> list[FollowUp]:
    return [FollowUp("prune_feed", {"follower": follower_id, "followee": followee_id})]


def notify(recipient: str, kind: str, subject: str, actor: str, *salt: str) -> list[FollowUp]:
    if recipient == actor:
        return []
    return [
        FollowUp(
            "notify",
            {"recipient": recipient, "kind": kind, "subject": subject, "actor": actor},
            name=task_name("notify", recipient, kind, subject, actor, *salt),
        )
    ]


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
