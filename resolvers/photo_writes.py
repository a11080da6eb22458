"""Posting, re-captioning and deleting photos.

createPhoto never lets a Photo exist without its images, nor images exist
without a record that lets them be reclaimed:

1. a committed StrayBlob record names the blobs-to-be (their names are drawn
   before the image exists: media/blobs.py `upload_names`): one this process
   wrote ahead (resolvers/upload_records.py), or, when none is left, one written
   in the owner's group while the image is processed beside it;
2. once both are done, its blobs are written, started from whichever finished last
   (one wait for other threads; a refused file writes none, and its record goes);
3. one transaction in the owner's group commits the Photo (with the idempotency
   record) and deletes the StrayBlob record: with a record written ahead, the
   upload's only write.

A failure before 3 leaves the record, so the cleanup job reclaims the blobs after
a day; when we know the Photo was not committed (a typed failure, a replayed
retry) the blobs and the record go at once. A commit that fails in an ambiguous
way (it may have applied) deletes nothing: if it did apply, the record is gone
with it; if not, the record is still there for the cleanup job.
deletePhoto is the mirror image: the Photo goes and a StrayBlob record with its
blob names comes in one transaction; then the blobs and the record go.
"""

from __future__ import annotations

import logging
import unicodedata
from concurrent.futures import Future
from dataclasses import replace
from datetime import datetime
from typing import BinaryIO

from errors import BadUserInput
from media import ImageRejected, ProcessedImage
from media.blobs import names_by_variant, start_after, upload_names
from media.derivatives import RENDER_VERSION
from media.errors import CorruptImage, EmptyImage, ImageTooLarge, TooManyPixels, UnsupportedImage
from resolvers import background
from resolvers.context import RequestContext
from resolvers.mutations import Outcome, run_mutation
from resolvers.user_errors import UserErrorCode
from store import models, social_models
from store.keys import Key
from store.port import Entity, Transaction
from tasks.outbox import Outbox

log = logging.getLogger("timeline.photos")

CAPTION_MAX = 2200  # Instagram's limit, which people already write to
BAD_CAPTION = (
    f"Captions are at most {CAPTION_MAX} characters, without control characters "
    "other than line breaks."
)
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs"})  # control characters, lone surrogates


def clean_caption(caption: str) -> str | None:
    """The caption as stored, or None when it breaks a rule (docs/UPLOADS.md)."""
    text = caption.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text).strip()
    if len(text) > CAPTION_MAX:
        return None
    if any(ch != "\n" and unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in text):
        return None
    return text


# The pipeline's refusals (media/errors.py draws the tree), as the codes clients see.
_IMAGE_REFUSALS: dict[type[ImageRejected], UserErrorCode] = {
    EmptyImage: UserErrorCode.EMPTY_IMAGE,
    ImageTooLarge: UserErrorCode.IMAGE_TOO_LARGE,
    UnsupportedImage: UserErrorCode.UNSUPPORTED_IMAGE,
    TooManyPixels: UserErrorCode.TOO_MANY_PIXELS,
    CorruptImage: UserErrorCode.CORRUPT_IMAGE,
}


def _refusal_code(refusal: ImageRejected) -> UserErrorCode:
    """The code of the nearest refusal class (ImageOverBudget is TOO_MANY_PIXELS)."""
    for cls in type(refusal).__mro__:
        if cls in _IMAGE_REFUSALS:
            return _IMAGE_REFUSALS[cls]
    return UserErrorCode.UNSUPPORTED_IMAGE


async def create_photo(
    context: RequestContext, image: BinaryIO, caption: str, idempotency_key: str | None
) -> Outcome:
    viewer = context.require_viewer()
    cleaned = clean_caption(caption)
    if cleaned is None:
        return Outcome.failed(UserErrorCode.INVALID_INPUT, BAD_CAPTION, "caption")
    me = models.user_key(viewer.user_id)
    await context.loaders.fetch_and_prime([me])  # one get, no DataLoader's loop turns
    if context.loaders.loaded(me) is None:
        return Outcome.profile_missing()
    media = context.media
    try:
        media.pipeline.refuse_early(image)  # junk costs no write
    except ImageRejected as refusal:
        return Outcome.failed(_refusal_code(refusal), refusal.message, "image")
    now = context.clock()
    pool = context.upload_records
    pooled = pool.take() if pool is not None else None  # committed ahead: no write here
    if pooled is not None:
        stray = pooled
    else:
        new_id = models.new_id()
        stray = models.StrayBlob(viewer.user_id, new_id, tuple(upload_names(new_id).values()), now)
    photo_id, names = stray.id, names_by_variant(stray.names)
    recorded: Future[None] = Future()  # done when the record is committed
    if pooled is not None:
        recorded.set_result(None)

    def write_blobs(processed: ProcessedImage) -> Future[None]:
        return start_after(
            recorded,
            lambda: media.blobs.start_put_many(
                {names[r.variant]: (r.data, r.content_type) for r in processed.renditions}
            ),
        )

    # The image is rendered while its record commits; the blobs wait for both.
    # Returns only when no write is under way, so none can land after the cleanup.
    started = media.pipeline.start(image, then=write_blobs)
    if pooled is None:
        try:
            await context.store.put_many([models.stray_blob_to_entity(stray)])  # before any blob
        except BaseException:
            recorded.cancel()  # no blob is written: the upload ends here
            media.pipeline.abandon(started)
            raise
        recorded.set_result(None)
    try:
        processed = await media.pipeline.finish(started, then=write_blobs)
    except ImageRejected as refusal:
        await _reclaim(context, stray)  # no blob was written: the record goes
        return Outcome.failed(_refusal_code(refusal), refusal.message, "image")
    except Exception:
        # Nothing refers to them: no Photo was committed. (Cancelled, a write may
        # still land: the record stays for the cleanup job.)
        await _reclaim(context, stray)
        raise
    photo = _photo(viewer.user_id, photo_id, cleaned, now, processed, names)

    outbox = Outbox()

    async def effect(tx: Transaction, found: list[Entity | None]) -> Outcome:
        (owner,) = found
        if owner is None:
            return Outcome.profile_missing()
        # The owner's own feed item is in the same entity group: they see their
        # post at once; followers get theirs from the fan-out task.
        tx.put_many(
            [
                models.photo_to_entity(photo),
                social_models.feed_item(viewer.user_id, photo.key, photo.sort_key),
            ]
        )
        tx.delete_many([stray.key])
        outbox.add(*background.after_photo_created(photo))
        return Outcome(key=photo.key)

    try:
        outcome = await run_mutation(
            context,
            viewer_id=viewer.user_id,
            name="createPhoto",
            # The image by its hash: a retry sends the same bytes, another photo does not.
            arguments={"caption": caption, "image": processed.source_sha256},
            idempotency_key=idempotency_key,
            reads=[models.user_key(viewer.user_id)],
            effect=effect,
            outbox=outbox,
            now=now,
        )
    except BadUserInput:
        await _reclaim(context, stray)  # a malformed idempotency key: refused before any commit
        raise
    if outcome.key != photo.key:
        # Refused, or a retry that replayed an earlier outcome: these blobs are unused.
        await _reclaim(context, stray)
    return outcome


def _photo(
    owner_id: str,
    photo_id: str,
    caption: str,
    now: datetime,
    processed: ProcessedImage,
    names: dict[str, str],
) -> models.Photo:
    return models.Photo(
        owner_id=owner_id,
        id=photo_id,
        caption=caption,
        created_at=now,
        width=processed.width,
        height=processed.height,
        blurhash=processed.blurhash,
        dominant_color=processed.dominant_color,
        images={r.variant: names[r.variant] for r in processed.renditions},
        render_version=RENDER_VERSION,
    )


async def update_caption(
    context: RequestContext, photo_key: Key, caption: str, idempotency_key: str | None
) -> Outcome:
    viewer = context.require_viewer()
    cleaned = clean_caption(caption)
    if cleaned is None:
        return Outcome.failed(UserErrorCode.INVALID_INPUT, BAD_CAPTION, "caption")

    async def effect(tx: Transaction, found: list[Entity | None]) -> Outcome:
        photo_or_error = _owned_photo(found[0], viewer.user_id)
        if isinstance(photo_or_error, Outcome):
            return photo_or_error
        tx.put_many([models.photo_to_entity(replace(photo_or_error, caption=cleaned))])
        return Outcome(key=photo_key)

    return await run_mutation(
        context,
        viewer_id=viewer.user_id,
        name="updateCaption",
        arguments={"photoId": photo_key.encode(), "caption": caption},
        idempotency_key=idempotency_key,
        reads=[photo_key],
        effect=effect,
    )


async def delete_photo(
    context: RequestContext, photo_key: Key, idempotency_key: str | None
) -> Outcome:
    viewer = context.require_viewer()
    now = context.clock()
    # Filled by the attempt that commits. A replay leaves it empty, unless an attempt
    # lost a race to a retry of itself first: reclaiming that retry's blobs is harmless.
    deleted: list[models.StrayBlob] = []
    outbox = Outbox()

    async def effect(tx: Transaction, found: list[Entity | None]) -> Outcome:
        deleted.clear()
        photo_or_error = _owned_photo(found[0], viewer.user_id)
        if isinstance(photo_or_error, Outcome):
            return photo_or_error
        photo = photo_or_error
        tx.delete_many([photo_key])
        if photo.images:
            stray = models.StrayBlob(photo.owner_id, photo.id, tuple(photo.images.values()), now)
            tx.put_many([models.stray_blob_to_entity(stray)])
            deleted.append(stray)
        outbox.add(*background.after_photo_deleted(photo_key))
        return Outcome(key=photo_key)

    outcome = await run_mutation(
        context,
        viewer_id=viewer.user_id,
        name="deletePhoto",
        arguments={"photoId": photo_key.encode()},
        idempotency_key=idempotency_key,
        reads=[photo_key],
        effect=effect,
        outbox=outbox,
        now=now,
    )
    if not outcome.errors:
        for stray in deleted:
            await _reclaim(context, stray)
    return outcome


def _owned_photo(entity: Entity | None, viewer_id: str) -> models.Photo | Outcome:
    if entity is None:
        return Outcome.failed(
            UserErrorCode.NOT_FOUND, "No such photo; it may have been deleted.", "photoId"
        )
    photo = models.photo_from_entity(entity)
    if photo.owner_id != viewer_id:
        return Outcome.failed(
            UserErrorCode.NOT_ALLOWED, "Only the photo's owner can change it.", "photoId"
        )
    return photo


async def _reclaim(context: RequestContext, stray: models.StrayBlob) -> None:
    """Deletes the blobs, then their record. Best effort: if either step fails, the
    record stays and the cleanup job finishes the work."""
    try:
        await context.media.blobs.delete(stray.names)
        await context.store.delete_many([stray.key])
    except Exception:
        log.warning("left stray blobs %s for the cleanup job", stray.key, exc_info=True)
