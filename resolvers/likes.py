"""Liking a photo: one like per user per photo, by key, with a sharded count.

The Like record lives in the liker's entity group under a key made from the
photo, so liking twice finds the record and changes nothing, and `viewerHasLiked`
for a whole page is one batched get.

The transaction touches the liker's group only: the Like, a delta of the photo's
like count and an Activity for the owner's notification (store/counters.py,
store/activity_models.py), which tasks fold a batch at a time. Whether the photo
exists is read before, outside it: reading the photo inside would draw its
owner's group into every like. A like on a photo deleted a moment later is
harmless; it counts for a photo nobody sees.
"""

from __future__ import annotations

from resolvers import background, counts
from resolvers.context import RequestContext
from resolvers.loaders import Maybe, exists
from resolvers.mutations import Outcome, run_mutation
from resolvers.user_errors import UserErrorCode
from store import counters, models, social_models
from store.activity_models import LIKE, activity
from store.keys import Key
from store.port import Entity, Transaction
from tasks.outbox import Outbox

LIKES = "likes"


def like_counter(photo: Key) -> str:
    return counters.counter_name(LIKES, photo)


async def set_like(
    context: RequestContext, photo: Key, idempotency_key: str | None, *, liked: bool
) -> Outcome:
    viewer = context.require_viewer()
    like = social_models.like_key(viewer.user_id, photo)
    owner = social_models.owner_id_of(photo)
    now = context.clock()
    outbox = Outbox()
    # One get, no DataLoader: the photo the like is for, and the count its answer shows.
    await context.loaders.fetch_and_prime([photo, counters.key_of(LIKES, photo)])
    if context.loaders.loaded(photo) is None:
        return Outcome.failed(
            UserErrorCode.NOT_FOUND, "No such photo; it may have been deleted.", "photoId"
        )

    async def effect(tx: Transaction, found: list[Entity | None]) -> Outcome:
        me, existing = found
        if me is None:
            return Outcome.profile_missing()
        if (existing is not None) == liked:
            return Outcome(key=photo)
        if liked:
            tx.put_many(
                [Entity(like, {"created_at": now, "sort_key": models.sort_key(now, like.name)})]
            )
            if owner != viewer.user_id:
                tx.put_many([activity(viewer.user_id, owner, LIKE, photo.encode(), now)])
        else:
            tx.delete_many([like])
        counters.add(tx, like_counter(photo), 1 if liked else -1, actor_id=viewer.user_id, now=now)
        outbox.add(
            *background.after_fan_in(
                owner if liked and owner != viewer.user_id else None,
                (like_counter(photo),),
                context.clock(),  # this attempt's bucket: the commit follows at once
            )
        )
        return Outcome(key=photo)

    return await run_mutation(
        context,
        viewer_id=viewer.user_id,
        name="likePhoto" if liked else "unlikePhoto",
        arguments={"photoId": photo.encode()},
        idempotency_key=idempotency_key,
        reads=[models.user_key(viewer.user_id), like],
        effect=effect,
        outbox=outbox,
    )


def viewer_has_liked(context: RequestContext, photo: Key) -> Maybe[bool]:
    if context.viewer is None:
        return False
    like = social_models.like_key(context.viewer.user_id, photo)
    return context.loaders.entity_then(like, exists)


def like_count(context: RequestContext, photo: Key) -> Maybe[int]:
    return counts.read(context.loaders, counters.key_of(LIKES, photo))
