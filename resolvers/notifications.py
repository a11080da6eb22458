"""Reading notifications and marking them read, all in the viewer's entity group."""

from __future__ import annotations

import functools

from resolvers import nodes
from resolvers.context import RequestContext
from resolvers.pagination import Page, PageArgs, paginate
from store import models
from store.keys import Key
from store.notification_models import (
    NOTIFICATION,
    RECENT_ACTORS,
    Notification,
    notification_from_entity,
    notification_to_entity,
)
from store.notification_text import notification_message
from store.port import MAX_BATCH, Position, Query, Transaction
from store.transactions import run_in_transaction

# Badges show "99+"; counting further would read every unread notification.
UNREAD_COUNT_CAP = 100


def _query(viewer_id: str, *, unread_only: bool = False) -> Query:
    return Query(
        kind=NOTIFICATION,
        order_by="sort_key",
        ancestor=models.user_key(viewer_id),
        equals=(("unread", True),) if unread_only else (),
    )


async def notifications(context: RequestContext, args: PageArgs) -> Page[Notification]:
    viewer = context.require_viewer()
    return await paginate(
        context.store,
        context.cursors,
        _query(viewer.user_id),
        f"notifications:{viewer.user_id}",
        args,
        notification_from_entity,
    )


async def recent_actors(context: RequestContext, notice: Notification) -> list[models.User]:
    """The RECENT_ACTORS most recent actors who still exist, newest first."""
    keys = [models.user_key(actor) for actor in notice.actor_ids[:RECENT_ACTORS]]
    found = await context.loaders.many(keys)
    return [models.user_from_entity(e) for e in found if e is not None]


async def subject_photo(context: RequestContext, notice: Notification) -> models.Photo | None:
    """The photo it is about: None for a follow, or once the photo is deleted."""
    if not notice.subject:
        return None
    return await nodes.photo(context, Key.decode(notice.subject))


def message(notice: Notification, first_actor: str | None) -> str:
    return notification_message(notice.kind, first_actor, notice.actor_count)


async def unread_count(context: RequestContext) -> int:
    viewer = context.require_viewer()
    unread = await context.store.page(
        _query(viewer.user_id, unread_only=True), limit=UNREAD_COUNT_CAP
    )
    return len(unread)


async def mark_read(context: RequestContext, up_to_sort_key: str | None) -> int:
    """Marks read every unread notification at or below `up_to_sort_key` (all when
    None), a commit of at most MAX_BATCH at a time; returns how many."""
    viewer = context.require_viewer()
    # Positions bound strictly; "\0" is the smallest step past a string.
    after = Position(up_to_sort_key + "\0") if up_to_sort_key is not None else None
    marked = 0
    while True:
        batch = await context.store.page(
            _query(viewer.user_id, unread_only=True), limit=MAX_BATCH, after=after
        )
        if not batch:
            return marked
        marked += await run_in_transaction(
            context.store, functools.partial(_mark, keys=[r.entity.key for r in batch])
        )


async def mark_read_through(context: RequestContext, up_to: Key | None) -> int | None:
    """Marks read the viewer's notification at `up_to` and every older one (all
    when None); None when `up_to` names no notification of the viewer's."""
    up_to_sort_key = None
    if up_to is not None:
        viewer = context.require_viewer()
        entity = await context.loaders.entity(up_to)
        owner = up_to.parent
        if entity is None or owner is None or owner.name != viewer.user_id:
            return None
        up_to_sort_key = str(entity.properties["sort_key"])
    return await mark_read(context, up_to_sort_key)


async def _mark(tx: Transaction, *, keys: list[Key]) -> int:
    # Read again inside the transaction: a notification updated since the query
    # keeps its newer actors.
    current = [notification_from_entity(e) for e in await tx.get_many(keys) if e]
    for notice in current:
        notice.unread = False
    tx.put_many([notification_to_entity(n) for n in current])
    return len(current)
