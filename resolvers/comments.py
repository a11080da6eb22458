"""Comments: children of the photo, so a photo's comments are one ancestor query.

Text is 1 to 1,000 characters after trimming; newlines are kept, other control
characters refused. The author or the photo's owner may delete a comment.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

from resolvers import background, counts
from resolvers.context import RequestContext
from resolvers.mutations import Outcome, run_mutation
from resolvers.pagination import Page, PageArgs, paginate
from store import counters, models, social_models
from store.keys import Key
from store.port import Entity, Query, Transaction
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
            "INVALID_INPUT",
            f"Comments are 1 to {COMMENT_MAX} characters; no control characters but newlines.",
            "text",
        )
    comment = social_models.Comment(
        photo, models.new_id(), viewer.user_id, cleaned, datetime.now(UTC)
    )
    outbox = Outbox()

    async def effect(tx: Transaction, found: list[Entity | None]) -> Outcome:
        me, target = found
        if me is None:
            return Outcome.profile_missing()
        if target is None:
            return Outcome.failed(
                "NOT_FOUND", "No such photo; it may have been deleted.", "photoId"
            )
        tx.put_many([social_models.comment_to_entity(comment)])
        await counters.add(tx, comment_counter(photo), 1)
        owner = social_models.owner_id_of(photo)
        outbox.add(
            *background.notify(owner, "COMMENT", photo.encode(), viewer.user_id, comment.key.name)
        )
        return Outcome(key=comment.key)

    return await run_mutation(
        context.store,
        viewer_id=viewer.user_id,
        name="addComment",
        arguments={"photoId": photo.encode(), "text": text},
        idempotency_key=idempotency_key,
        reads=[models.user_key(viewer.user_id), photo],
        effect=effect,
        outbox=outbox,
        tasks=context.tasks,
    )


async def delete_comment(
    context: RequestContext, comment: Key, idempotency_key: str | None
) -> Outcome:
    viewer = context.require_viewer()
    photo = comment.parent
    if photo is None:
        return Outcome.failed("NOT_FOUND", "No such comment.", "commentId")

    async def effect(tx: Transaction, found: list[Entity | None]) -> Outcome:
        [existing] = found
        if existing is None:
            return Outcome.failed("NOT_FOUND", "No such comment.", "commentId")
        author = existing.properties.get("author_id")
        if viewer.user_id not in (author, social_models.owner_id_of(photo)):
            return Outcome.failed(
                "NOT_ALLOWED",
                "Only the author or the photo's owner may delete it.",
                "commentId",
            )
        tx.delete_many([comment])
        await counters.add(tx, comment_counter(photo), -1)
        return Outcome(key=comment)

    return await run_mutation(
        context.store,
        viewer_id=viewer.user_id,
        name="deleteComment",
        arguments={"commentId": comment.encode()},
        idempotency_key=idempotency_key,
        reads=[comment],
        effect=effect,
    )


async def photo_comments(
    context: RequestContext, photo: Key, args: PageArgs
) -> Page[social_models.Comment]:
    """Oldest first, as conversations read."""
    query = Query(kind=social_models.COMMENT, order_by="sort_key", descending=False, ancestor=photo)
    return await paginate(
        context.store,
        context.cursors,
        query,
        f"comments:{photo.encode()}",
        args,
        social_models.comment_from_entity,
    )


async def comment_count(context: RequestContext, photo: Key) -> int:
    return await counts.read(context.loaders, comment_counter(photo))
