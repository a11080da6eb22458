"""Following and unfollowing: both halves of the edge in one cross-group transaction.

The follower's `Following` record and the followee's `Follower` record are
written together (two entity groups, well within Datastore's 25), so each user's
list is one ancestor query that never disagrees with the other side. Counts are
sharded counters, changed in the same transaction. Work that reaches beyond the
two users (backfilling the follower's feed, the followee's notification) goes to
tasks named after the edge, through the transaction's outbox.
"""

from __future__ import annotations

from datetime import UTC, datetime

from resolvers import background, counts
from resolvers.context import RequestContext
from resolvers.mutations import Outcome, run_mutation
from resolvers.pagination import Page, PageArgs, paginate
from store import counters, models, social_models
from store.keys import Key
from store.port import Entity, Query, Transaction
from tasks.outbox import Outbox

FOLLOWERS = "followers"
FOLLOWING = "following"


def _target(user_id: str, viewer_id: str) -> Outcome | None:
    if user_id == viewer_id:
        return Outcome.failed("INVALID_INPUT", "You cannot follow yourself.", "userId")
    return None


async def follow(context: RequestContext, target: Key, idempotency_key: str | None) -> Outcome:
    return await _change(context, target, idempotency_key, following=True)


async def unfollow(context: RequestContext, target: Key, idempotency_key: str | None) -> Outcome:
    return await _change(context, target, idempotency_key, following=False)


async def _change(
    context: RequestContext, target: Key, idempotency_key: str | None, *, following: bool
) -> Outcome:
    viewer = context.require_viewer()
    refused = _target(target.name, viewer.user_id)
    if refused is not None:
        return refused
    edge = social_models.following_key(viewer.user_id, target.name)
    mirror = social_models.follower_key(target.name, viewer.user_id)
    now = datetime.now(UTC)
    outbox = Outbox()

    async def effect(tx: Transaction, found: list[Entity | None]) -> Outcome:
        me, them, existing = found
        if me is None:
            return Outcome.profile_missing()
        if them is None:
            return Outcome.failed("NOT_FOUND", "No such user.", "userId")
        if (existing is not None) == following:
            return Outcome(key=target)  # already so: following twice changes nothing
        delta = 1 if following else -1
        if following:
            tx.put_many(
                [
                    social_models.edge_entity(edge, target.name, now),
                    social_models.edge_entity(mirror, viewer.user_id, now),
                ]
            )
        else:
            tx.delete_many([edge, mirror])
        await counters.add(tx, counters.counter_name(FOLLOWERS, target), delta)
        await counters.add(
            tx, counters.counter_name(FOLLOWING, models.user_key(viewer.user_id)), delta
        )
        if following:
            outbox.add(*background.after_follow(viewer.user_id, target.name, now))
        else:
            outbox.add(*background.after_unfollow(viewer.user_id, target.name))
        return Outcome(key=target)

    return await run_mutation(
        context.store,
        viewer_id=viewer.user_id,
        name="follow" if following else "unfollow",
        arguments={"userId": target.encode()},
        idempotency_key=idempotency_key,
        reads=[models.user_key(viewer.user_id), target, edge],
        effect=effect,
        outbox=outbox,
        tasks=context.tasks,
    )


def _edge_query(kind: str, user_id: str) -> Query:
    return Query(kind=kind, order_by="sort_key", ancestor=models.user_key(user_id))


def _other_user(entity: Entity) -> str:
    return str(entity.properties["user_id"])


async def followers(context: RequestContext, user_id: str, args: PageArgs) -> Page[str]:
    """Ids of the users following `user_id`, most recent first."""
    return await paginate(
        context.store,
        context.cursors,
        _edge_query(social_models.FOLLOWER, user_id),
        f"followers:{user_id}",
        args,
        _other_user,
    )


async def following(context: RequestContext, user_id: str, args: PageArgs) -> Page[str]:
    return await paginate(
        context.store,
        context.cursors,
        _edge_query(social_models.FOLLOWING, user_id),
        f"following:{user_id}",
        args,
        _other_user,
    )


async def viewer_follows(context: RequestContext, user_id: str) -> bool:
    if context.viewer is None:
        return False
    edge = social_models.following_key(context.viewer.user_id, user_id)
    return await context.loaders.entity(edge) is not None


async def follower_count(context: RequestContext, user_id: str) -> int:
    return await counts.read(
        context.loaders, counters.counter_name(FOLLOWERS, models.user_key(user_id))
    )


async def following_count(context: RequestContext, user_id: str) -> int:
    return await counts.read(
        context.loaders, counters.counter_name(FOLLOWING, models.user_key(user_id))
    )
