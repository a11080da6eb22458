"""Bringing an owner's entity group up to date with what others did, a batch a write.

    fan_in     {owner}   the owner's pending activities -> notifications, follower edges
    sweep_fan_in (cron)  owners whose activities outlived their bucket's task

Likes, comments and follows commit in their actor's group with an Activity
naming the owner (store/activity_models.py) and ask for the owner's `fan_in`
task of the current time bucket (tasks/batching.py). One run reads a page of
the owner's activities with one query and applies the page in one transaction
on the owner's group alone:

- notifications coalesce as before ("alice and 4 others liked your photo"), one
  current item per (kind, subject), each changed one written as a new item at the
  top (store/notification_models.py) and pushed once (tasks/push_notifications.py);
- the followee's half of each follow edge (`Follower`, which the followers list
  and the fan-out of new photos page through) is set to what the follower's half
  says now, so follow and unfollow in either order end right; each new follower's
  feed is then backfilled (a photo posted before this write is backfilled, one
  posted after is fanned out to the follower), and the owner, if they asked for
  new-follower e-mails, is sent one per follower (tasks/emails.py).

The pushes, backfills and e-mails this calls for are written in the same
transaction, as outbox records under a root of their own (tasks/outbox.py), and
relayed after it. Then it deletes the page's activities. The transaction also
records which activities it applied (the FanInMark), so a run that dies between
the commit and the delete does not apply them again, and what they called for
is already in the outbox: the rerun asks for nothing twice, the crash loses
nothing. Fifty likes a second on one photo are so
about one write a second to its owner's group.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from store import activity_models, social_models
from store.activity_models import Activity
from store.email_models import email_settings_key, preferences_from_entity
from store.keys import Key
from store.models import new_id, sort_key
from store.notification_models import (
    Notification,
    current_notifications,
    save_notifications,
    thread_key,
)
from store.port import MAX_BATCH, Entity, Position, Store, Transaction
from store.transactions import run_in_transaction
from taskqueue.context import JobContext, TaskContext
from taskqueue.registry import Payload, cron_job, task_handler
from tasks.batching import enqueue_batched
from tasks.emails import follower_email_follow_up
from tasks.feed import backfill_follow_up
from tasks.outbox import OUTBOX, outbox_records, relay_after_commit
from tasks.push_notifications import push_follow_up

# Activities a transaction applies, inside a commit of MAX_BATCH (500) mutations:
# each writes at most four (a follower edge, a backfill and an e-mail record; or
# a changed notification's new item, thread and removed item, and its push).
FAN_IN_PAGE = 100
# Pages one run applies before it leaves the rest to the next bucket's run.
MAX_PAGES = 20
# An activity this old has missed its bucket's task; the sweeper asks again.
STALE_ACTIVITY = timedelta(minutes=1)


@task_handler("fan_in")
async def fan_in(payload: Payload, ctx: TaskContext) -> None:
    owner = str(payload["owner"])
    for _ in range(MAX_PAGES):
        page = await ctx.store.page(activity_models.pending_for(owner), limit=FAN_IN_PAGE)
        if not page:
            return
        activities = [activity_models.activity_from_entity(r.entity) for r in page]
        apply = functools.partial(
            _apply,
            store=ctx.store,
            owner=owner,
            activities=activities,
            mailer=ctx.mail is not None,
            now=ctx.clock(),
        )
        follow_ups = await run_in_transaction(ctx.store, apply)
        # Committed with what they follow from: a run that dies from here on
        # leaves them to the outbox's sweeper, and its rerun skips the applied.
        await relay_after_commit(ctx.store, ctx.tasks, follow_ups)
        await ctx.store.delete_many([a.key for a in activities])
        if len(page) < FAN_IN_PAGE:
            return
    await enqueue_batched(ctx.tasks, "fan_in", {"owner": owner}, owner, now=ctx.clock())


async def _follower_halves(
    store: Store, owner: str, activities: list[Activity]
) -> tuple[dict[str, Entity | None], bool]:
    """Each follower's own half of its edge to `owner`, as it stands now (by key,
    so strongly consistent; a plain get, not drawing the followers' groups into
    the transaction: a later change of the edge leaves an activity of its own
    that a later batch applies, and a batch that committed first makes this
    attempt retry, and read again), and whether the owner wants new-follower
    e-mails (in the same get)."""
    actors = list(
        dict.fromkeys(a.actor_id for a in activities if a.kind in activity_models.EDGE_KINDS)
    )
    if not actors:
        return {}, False
    *found, preferences = await store.get_many(
        [*(social_models.following_key(a, owner) for a in actors), email_settings_key(owner)]
    )
    wants_mail = preferences_from_entity(preferences).wants("new_follower")
    return dict(zip(actors, found, strict=True)), wants_mail


async def _apply(
    tx: Transaction,
    *,
    store: Store,
    owner: str,
    activities: list[Activity],
    mailer: bool,
    now: datetime,
) -> list[Entity]:
    """Applies the activities not applied already, with the follow-up work they
    call for in the owner's outbox (tasks/outbox.py); returns its records: a push
    per notification changed, a backfill (and an e-mail, when the owner wants one
    and there is a `mailer`) per new follower.

    The followers' halves are read again each attempt: an attempt that lost to
    another run (the next bucket's, which applied a later unfollow and committed
    first) would otherwise write back the halves as they were before it, and no
    activity is left to correct them (tests/test_fan_in_halves.py)."""
    edges, wants_mail = await _follower_halves(store, owner, activities)
    mail = wants_mail and mailer
    topics = list(
        dict.fromkeys(
            (a.kind, a.subject) for a in activities if a.kind in activity_models.NOTIFYING
        )
    )
    # The mark and the threads in one read: every read of a transaction on the
    # owner's group widens the window in which the owner's own writes make it retry.
    mark, *threads = await tx.get_many(
        [activity_models.mark_key(owner), *(thread_key(owner, k, s) for k, s in topics)]
    )
    current = await current_notifications(tx, owner, topics, threads=threads)
    notices = dict(zip(topics, current, strict=True))
    applied = activity_models.applied_ids(mark)
    changed: dict[tuple[str, str], Notification] = {}
    followed_by: set[str] = set()
    for a in activities:
        if a.id in applied:
            continue
        if a.kind in activity_models.EDGE_KINDS:
            followed_by.add(a.actor_id)
        if a.kind not in activity_models.NOTIFYING:
            continue
        # Changed notifications become new items at the top (store/notification_models.py).
        if notices[(a.kind, a.subject)].add_actor(a.actor_id, now):
            changed[(a.kind, a.subject)] = notices[(a.kind, a.subject)]
    follows = [
        social_models.edge_entity(
            social_models.follower_key(owner, actor), actor, _created_at(edge, now)
        )
        for actor, edge in edges.items()
        if edge is not None
    ]
    new_followers = {a: edge for a, edge in edges.items() if edge is not None and a in followed_by}
    follow_ups = [
        *(push_follow_up(notice) for notice in changed.values()),
        *(backfill_follow_up(actor, owner, edge) for actor, edge in new_followers.items()),
        *(follower_email_follow_up(owner, actor) for actor in new_followers if mail),
    ]
    # In a root of their own, so that the relay's delete is not a second write
    # into the owner's group each run (one write a bucket, ARCHITECTURE.md).
    records = outbox_records(Key.of(OUTBOX, new_id()), follow_ups, now)
    save_notifications(tx, changed.values())
    tx.put_many([*follows, *records, activity_models.mark(owner, [a.id for a in activities])])
    tx.delete_many(
        [social_models.follower_key(owner, actor) for actor, edge in edges.items() if edge is None]
    )
    return records


def _created_at(edge: Entity, default: datetime) -> datetime:
    created = edge.properties.get("created_at")
    return created if isinstance(created, datetime) else default


@cron_job("sweep_fan_in")
async def sweep_fan_in(ctx: JobContext) -> None:
    """Asks again for the fan-in of every owner with an activity left over (its
    enqueue was lost to a crash, or a run gave up); the run does the rest."""
    now = ctx.clock()
    stale = await ctx.store.page(
        activity_models.all_pending(),
        limit=MAX_BATCH,
        before=Position(sort_key(now - STALE_ACTIVITY, "")),
    )
    for owner in dict.fromkeys(str(r.entity.properties["owner"]) for r in stale):
        await enqueue_batched(ctx.tasks, "fan_in", {"owner": owner}, owner, now=now)
