"""Comments: kept in their author's entity group, listed by a query on the photo.

A comment is written where its author's other writes go, with a delta of the
photo's comment count and an Activity for the owner's notification, so a busy
thread never writes into the photo owner's group (store/social_models.py). Text
is 1 to 1,000 characters after trimming; newlines are kept, other control
characters refused. The author or the photo's owner may delete a comment.
"""

from __future__ import annotations

import unicodedata

from resolvers import background, counts
from resolvers.context import RequestContext
from resolvers.loaders import Maybe
from resolvers.mutations import Outcome, run_mutation
from resolvers.pagination import Page, PageArgs, paginate
from resolvers.user_errors import UserErrorCode
from store import counters, models, social_models
from store.activity_models import COMMENT, activity
from store.keys import Key
from store.port import Entity, Transaction
from tasks.outbox import Outbox

COMMENTS = "comments"
COMMENT_MAX = 1000


def comment_counter(photo: Key) -> str:
    return counters.counter_name(COMMENTS, photo)


def clean_comment(text: str) -> str | None:
    cleaned = unicodedata.normalize("NFC", text.strip())
    if not 1 <= len(cleaned) <= COMMENT_MAX:
        return None
    if any(ch != "\n" and unicodedata.category(ch).startswith("C") for ch in cleaned):
        return None
    return cleaned


async def add_comment(
    context: RequestContext, photo: Key, text: str, idempotency_key: str | None
) -> Outcome:
    viewer = context.require_viewer()
    cleaned = clean_comment(text)
    if cleaned is None:
        return Outcome.failed(
            UserErrorCode.INVALID_INPUT,
            f"Comments are 1 to {COMMENT_MAX} characters; no control characters but newlines.",
            "text",
        )
    comment = social_models.Comment(
        photo, models.new_id(), viewer.user_id, cleaned, context.clock()
    )
    owner = social_models.owner_id_of(photo)
    outbox = Outbox()
    await context.loaders.fetch_and_prime([photo])  # one get, no DataLoader's loop turns
    if context.loaders.loaded(photo) is None:
        return Outcome.failed(
            UserErrorCode.NOT_FOUND, "No such photo; it may have been deleted.", "photoId"
        )

    async def effect(tx: Transaction, found: list[Entity | None]) -> Outcome:
        [me] = found
        if me is None:
            return Outcome.profile_missing()
        tx.put_many([social_models.comment_to_entity(comment)])
        if owner != viewer.user_id:
            tx.put_many(
                [activity(viewer.user_id, owner, COMMENT, photo.encode(), comment.created_at)]
            )
        counters.add(tx, comment_counter(photo), 1, actor_id=viewer.user_id, now=comment.created_at)
        notified = owner if owner != viewer.user_id else None
        outbox.add(*background.after_fan_in(notified, (comment_counter(photo),), context.clock()))
        return Outcome(key=comment.key)

    return await run_mutation(
        context,
        viewer_id=viewer.user_id,
        name="addComment",
        arguments={"photoId": photo.encode(), "text": text},
        idempotency_key=idempotency_key,
        reads=[models.user_key(viewer.user_id)],
        effect=effect,
        outbox=outbox,
    )


async def delete_comment(
    context: RequestContext, comment: Key, idempotency_key: str | None
) -> Outcome:
    viewer = context.require_viewer()
    if comment.kind != social_models.COMMENT or comment.parent is None:
        return Outcome.failed(UserErrorCode.NOT_FOUND, "No such comment.", "commentId")
    outbox = Outbox()

    async def effect(tx: Transaction, found: list[Entity | None]) -> Outcome:
        [existing] = found
        if existing is None:
            return Outcome.failed(UserErrorCode.NOT_FOUND, "No such comment.", "commentId")
        model = social_models.comment_from_entity(existing)
        if viewer.user_id not in (model.author_id, social_models.owner_id_of(model.photo)):
            return Outcome.failed(
                UserErrorCode.NOT_ALLOWED,
                "Only the author or the photo's owner may delete it.",
                "commentId",
            )
        tx.delete_many([comment])
        counters.add(
            tx, comment_counter(model.photo), -1, actor_id=viewer.user_id, now=context.clock()
        )
        outbox.add(*background.after_fan_in(None, (comment_counter(model.photo),), context.clock()))
        return Outcome(key=comment)

    return await run_mutation(
        context,
        viewer_id=viewer.user_id,
        name="deleteComment",
        arguments={"commentId": comment.encode()},
        idempotency_key=idempotency_key,
        reads=[comment],
        effect=effect,
        outbox=outbox,
    )


async def photo_comments(
    context: RequestContext, photo: Key, args: PageArgs
) -> Page[social_models.Comment]:
    """Oldest first, as conversations read."""
    return await paginate(
        context.store,
        context.cursors,
        social_models.comments_query(photo),
        f"comments:{photo.encode()}",
        args,
        social_models.comment_from_entity,
    )


def comment_count(context: RequestContext, photo: Key) -> Maybe[int]:
    return counts.read(context.loaders, counters.key_of(COMMENTS, photo))
