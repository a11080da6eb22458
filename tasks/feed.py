"""Fan-out on write: the tasks that keep every follower's home feed.

A new photo is written into each follower's entity group as a FeedItem, a batch
of followers per task, each task chaining the next with the query position where
it stopped. FeedItem keys are made from the photo, so a batch delivered twice
writes the same entities again and changes nothing; so does a chain resumed after
it was cut half way. Each batch also leaves a NEW_PHOTO notification with every
follower who has none for this photo yet.

    fanout_photo     {photo, sort_key, after?, batch}   followers get the photo
    unfanout_photo   {photo, after?, batch}             followers lose it (deleted)
    backfill_feed    {follower, followee}               a new follow brings a page of photos
    prune_feed       {follower, followee, after?}       an unfollow takes them away
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from store import models, social_models
from store.keys import Key
from store.notification_models import Notification, first_item_key, notification_to_entity
from store.port import Entity, Position, Query, Result, Store
from taskqueue.context import TaskContext
from taskqueue.naming import task_name
from taskqueue.registry import Payload, task_handler
from tasks.outbox import FollowUp

# Followers per task: two entities each (FeedItem, notification), so one commit
# of at most 500 entities.
FOLLOWERS_PER_BATCH = 250
# A new follow copies the followee's newest photos into the follower's feed: as
# many as the first page a client sees when it asks for no size (the default page
# of resolvers/pagination.py; tasks sit below resolvers). Older ones are on the
# followee's profile. A bound that grows to the client's maximum page (50) made
# every follow, and the prune of every unfollow, cost more as users posted: the
# work of both followed the followee's photo count up to that bound.
BACKFILL_PHOTOS = 20
FEED_QUEUE = "default"


def followers_query(owner_id: str) -> Query:
    return Query(
        kind=social_models.FOLLOWER, order_by="sort_key", ancestor=models.user_key(owner_id)
    )


def encode_position(position: Position | None) -> dict[str, str] | None:
    if position is None:
        return None
    native = base64.b64encode(position.native).decode() if position.native else ""
    return {"value": position.value, "native": native}


def decode_position(raw: Mapping[str, Any] | None) -> Position | None:
    if not raw:
        return None
    native = base64.b64decode(raw["native"]) if raw.get("native") else None
    return Position(str(raw["value"]), native)


async def _follower_batch(store: Store, owner_id: str, after: Position | None) -> list[Result]:
    return await store.page(followers_query(owner_id), limit=FOLLOWERS_PER_BATCH + 1, after=after)


async def _chain(
    ctx: TaskContext, handler: str, payload: Payload, batch: list[Result], photo: Key
) -> list[Result]:
    """Enqueues the next batch when there is one; returns this batch's followers."""
    if len(batch) > FOLLOWERS_PER_BATCH:
        batch = batch[:FOLLOWERS_PER_BATCH]
        number = int(payload.get("batch", 0)) + 1
        await ctx.tasks.enqueue(
            handler,
            {**payload, "after": encode_position(batch[-1].position), "batch": number},
            queue=FEED_QUEUE,
            name=task_name(handler, photo.encode(), str(number)),
        )
    return batch


async def _followers_in_batch(
    ctx: TaskContext, handler: str, payload: Payload
) -> tuple[Key, str, list[str]]:
    """The payload's photo, its owner and the followers of this batch, with the
    next batch enqueued when there is one (fan-out and its undo walk alike)."""
    photo = Key.decode(str(payload["photo"]))
    owner_id = social_models.owner_id_of(photo)
    batch = await _follower_batch(ctx.store, owner_id, decode_position(payload.get("after")))
    batch = await _chain(ctx, handler, payload, batch, photo)
    return photo, owner_id, [str(r.entity.properties["user_id"]) for r in batch]


@task_handler("fanout_photo")
async def fanout_photo(payload: Payload, ctx: TaskContext) -> None:
    photo, owner_id, followers = await _followers_in_batch(ctx, "fanout_photo", payload)
    if not followers:
        return
    items = [social_models.feed_item(f, photo, str(payload["sort_key"])) for f in followers]
    notices = await _missing_new_photo_notices(ctx.store, followers, owner_id, photo, ctx.clock())
    await ctx.store.put_many([*items, *notices])
    await _undo_for_unfollowers(ctx.store, owner_id, followers, photo)


async def _undo_for_unfollowers(
    store: Store, owner_id: str, followers: list[str], photo: Key
) -> None:
    """An unfollow that committed while this batch ran may have pruned the feed
    before our write landed. Checking the edges after writing closes the race:
    an unfollow either committed before this check (we see it and undo) or after
    it, and then its prune task runs after our write. The check reads each
    follower's own half: the owner's `Follower` half catches up only a batch later."""
    edges = await store.get_many([social_models.following_key(f, owner_id) for f in followers])
    gone = [f for f, edge in zip(followers, edges, strict=True) if edge is None]
    if gone:
        await store.delete_many(
            [social_models.feed_item_key(f, photo) for f in gone]
            + [first_item_key(f, "NEW_PHOTO", photo.encode()) for f in gone]
        )


async def _missing_new_photo_notices(
    store: Store, followers: list[str], owner_id: str, photo: Key, now: datetime
) -> list[Entity]:
    subject = photo.encode()
    keys = [first_item_key(f, "NEW_PHOTO", subject) for f in followers]
    existing = await store.get_many(keys)
    notices = []
    for follower, found in zip(followers, existing, strict=True):
        if found is None:
            notice = Notification(follower, "NEW_PHOTO", subject)
            notice.add_actor(owner_id, now)
            notices.append(notification_to_entity(notice))
    return notices


@task_handler("unfanout_photo")
async def unfanout_photo(payload: Payload, ctx: TaskContext) -> None:
    photo, owner_id, followers = await _followers_in_batch(ctx, "unfanout_photo", payload)
    # Two commits, each within the 500-entity limit: feed items, then notices.
    await ctx.store.delete_many(
        [social_models.feed_item_key(f, photo) for f in [*followers, owner_id]]
    )
    await ctx.store.delete_many([first_item_key(f, "NEW_PHOTO", photo.encode()) for f in followers])


def backfill_follow_up(follower: str, followee: str, edge: Entity) -> FollowUp:
    """`backfill_feed`, once the followee's half of the edge is written: a photo
    posted before then is backfilled, one posted after is fanned out. Named by
    the edge's creation, so following again after an unfollow backfills again
    and a repeated fan-in run asks once."""
    created = edge.properties.get("created_at")
    since = str(int(created.timestamp() * 1_000_000)) if isinstance(created, datetime) else "0"
    return FollowUp(
        "backfill_feed",
        {"follower": follower, "followee": followee, "since": since},
        name=task_name("backfill", follower, followee, since),
        queue=FEED_QUEUE,
    )


@task_handler("backfill_feed")
async def backfill_feed(payload: Payload, ctx: TaskContext) -> None:
    """The followee's recent photos into the follower's feed; those posted since
    the follow began (the fan-out may have run before it saw the new follower)
    also get the NEW_PHOTO notification the fan-out would have left."""
    follower, followee = str(payload["follower"]), str(payload["followee"])
    recent = await ctx.store.page(
        Query(kind=models.PHOTO, order_by="sort_key", ancestor=models.user_key(followee)),
        limit=BACKFILL_PHOTOS,
    )
    await ctx.store.put_many(
        [social_models.feed_item(follower, r.entity.key, r.position.value) for r in recent]
    )
    since = payload.get("since")
    if since is None:
        return  # enqueued before notifications were backfilled
    began = models.sort_key(datetime.fromtimestamp(int(since) / 1_000_000, UTC), "")
    for r in recent:
        if r.position.value >= began:
            notices = await _missing_new_photo_notices(
                ctx.store, [follower], followee, r.entity.key, ctx.clock()
            )
            await ctx.store.put_many(notices)


@task_handler("prune_feed")
async def prune_feed(payload: Payload, ctx: TaskContext) -> None:
    """Removes the followee's items from the follower's feed, unless they follow
    again by the time this runs."""
    follower, followee = str(payload["follower"]), str(payload["followee"])
    [edge] = await ctx.store.get_many([social_models.following_key(follower, followee)])
    if edge is not None:
        return
    query = Query(
        kind=social_models.FEED_ITEM,
        order_by="sort_key",
        ancestor=models.user_key(follower),
        equals=(("owner_id", followee),),
    )
    while items := await ctx.store.page(query, limit=500):
        await ctx.store.delete_many([r.entity.key for r in items])
