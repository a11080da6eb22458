"""Following and unfollowing: the follower's half now, the followee's half in a batch.

The transaction touches the follower's group only: its `Following` record, the
deltas of both counts (store/counters.py) and an Activity for the followee
(store/activity_models.py). A popular user followed fifty times a second must
not take fifty writes a second, so the followee's `Follower` record and the
notification are written by the followee's `fan_in` task, a batch at a time, set
to what the follower's half says when it runs (tasks/fan_in.py). Each
user's list is still one ancestor query; the followers list and the counts show
a follow about a second later, `viewerFollows` at once. The fan-in also asks
for the backfill of the follower's feed once the followee's half is written, so
a photo posted in between reaches the follower one way or the other.
"""

from __future__ import annotations

from resolvers import background, counts
from resolvers.context import RequestContext
from resolvers.loaders import Maybe, exists
from resolvers.mutations import Outcome, run_mutation
from resolvers.pagination import Page, PageArgs, paginate
from resolvers.user_errors import UserErrorCode
from store import counters, models, social_models
from store.activity_models import FOLLOW, UNFOLLOW, activity
from store.keys import Key
from store.port import Entity, Query, Transaction
from tasks.outbox import Outbox

FOLLOWERS = "followers"
FOLLOWING = "following"


def _target(user_id: str, viewer_id: str) -> Outcome | None:
    if user_id == viewer_id:
        return Outcome.failed(UserErrorCode.INVALID_INPUT, "You cannot follow yourself.", "userId")
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
    now = context.clock()
    outbox = Outbox()
    await context.loaders.fetch_and_prime([target])  # one get, no DataLoader's loop turns
    if context.loaders.loaded(target) is None:
        return Outcome.failed(UserErrorCode.NOT_FOUND, "No such user.", "userId")
    counted = (
        counters.counter_name(FOLLOWERS, target),
        counters.counter_name(FOLLOWING, models.user_key(viewer.user_id)),
    )

    async def effect(tx: Transaction, found: list[Entity | None]) -> Outcome:
        me, existing = found
        if me is None:
            return Outcome.profile_missing()
        if (existing is not None) == following:
            return Outcome(key=target)  # already so: following twice changes nothing
        if following:
            tx.put_many([social_models.edge_entity(edge, target.name, now)])
        else:
            tx.delete_many([edge])
        kind = FOLLOW if following else UNFOLLOW
        tx.put_many([activity(viewer.user_id, target.name, kind, "", now)])
        for name in counted:
            counters.add(tx, name, 1 if following else -1, actor_id=viewer.user_id, now=now)
        # This attempt's time bucket: the commit and the relay follow at once.
        outbox.add(*background.after_fan_in(target.name, counted, context.clock()))
        if not following:
            outbox.add(*background.after_unfollow(viewer.user_id, target.name))
        return Outcome(key=target)

    return await run_mutation(
        context,
        viewer_id=viewer.user_id,
        name="follow" if following else "unfollow",
        arguments={"userId": target.encode()},
        idempotency_key=idempotency_key,
        reads=[models.user_key(viewer.user_id), edge],
        effect=effect,
        outbox=outbox,
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


def viewer_follows(context: RequestContext, user_id: str) -> Maybe[bool]:
    if context.viewer is None:
        return False
    edge = social_models.following_key(context.viewer.user_id, user_id)
    return context.loaders.entity_then(edge, exists)


def follower_count(context: RequestContext, user_id: str) -> Maybe[int]:
    return counts.read(context.loaders, counters.key_of(FOLLOWERS, models.user_key(user_id)))


def following_count(context: RequestContext, user_id: str) -> Maybe[int]:
    return counts.read(context.loaders, counters.key_of(FOLLOWING, models.user_key(user_id)))
