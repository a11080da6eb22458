"""Re-rendering one photo's derivatives after the image pipeline changed.

The uploaded original is not kept: createPhoto stores three WebP derivatives cut
from pixels alone (no EXIF, no GPS) and drops the upload. So a re-render starts
from the largest derivative, `large` (at most 1080 px wide, already upright, sRGB
and stripped), and runs it through the current pipeline, which cuts the thumbnail
and the medium image from it and encodes `large` again. It cannot bring back
pixels beyond 1080 px, and each pass is one more lossy generation: that is why a
photo is re-rendered at most once per `RENDER_VERSION`, which the Photo records.
The Photo's width and height stay those of the original.

Safe to stop anywhere and to run twice:

1. read the Photo; skip it if it is gone, has no images, or is at RENDER_VERSION;
2. render from its `large` blob;
3. a StrayBlob record names the new blobs before they are written. Its id is the
   same for every attempt on the photo (`rerender-<photo id>`), so an attempt cut
   short before its commit leaves names that the next attempt adds to;
4. one transaction in the owner's group: a Photo still below the version takes
   the new images and the version; the blobs no Photo uses now (the old images,
   anything an earlier attempt wrote) move to a fresh StrayBlob record, and the
   pending one goes;
5. those blobs are deleted, then their record. What a crash leaves at 3 or 5 is a
   StrayBlob record, which `reclaim_stray_blobs` (cron) reclaims a day later.
"""

from __future__ import annotations

import enum
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace

from clock import Clock, system_clock
from media import BlobStore, ImagePipeline, ImageRejected, blob_name
from media.derivatives import LARGE, RENDER_VERSION
from store import models
from store.keys import Key
from store.port import Store, Transaction
from store.transactions import run_in_transaction

log = logging.getLogger("timeline.rerender")


class Outcome(enum.Enum):
    RERENDERED = "rerendered"
    SKIPPED = "skipped"  # gone, without images, or already current
    FAILED = "failed"  # will not succeed by trying again: its source image is missing or refused


@dataclass(frozen=True)
class _Rendering:
    images: dict[str, str]
    blurhash: str
    dominant_color: str


@dataclass(frozen=True)
class _Commit:
    applied: bool
    unused: models.StrayBlob | None


class PhotoRenderer:
    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        pipeline: ImagePipeline,
        *,
        version: int = RENDER_VERSION,
        clock: Clock = system_clock,
    ) -> None:
        self.store = store
        self.clock = clock
        self.blobs = blobs
        self.pipeline = pipeline
        self.version = version

    async def rerender(self, key: Key) -> Outcome:
        (entity,) = await self.store.get_many([key])
        if entity is None:
            return Outcome.SKIPPED
        photo = models.photo_from_entity(entity)
        source = photo.images.get(LARGE.name)
        if photo.render_version >= self.version or source is None:
            return Outcome.SKIPPED
        data = await self.blobs.get(source)
        if data is None:
            log.error(
                "photo %s: its %s image %s is missing; not re-rendered", key, LARGE.name, source
            )
            return Outcome.FAILED
        try:
            processed = await self.pipeline.process(io.BytesIO(data))
        except ImageRejected as refusal:
            log.error("photo %s: its %s image is refused: %s", key, LARGE.name, refusal.message)
            return Outcome.FAILED
        names = {r.variant: blob_name(photo.id, r) for r in processed.renditions}
        rendered = _Rendering(names, processed.blurhash, processed.dominant_color)
        pending = await self._write_pending(photo, names.values())
        for rendition in processed.renditions:
            await self.blobs.put(names[rendition.variant], rendition.data, rendition.content_type)
        commit = await run_in_transaction(
            self.store, lambda tx: self._commit(tx, photo, rendered, pending)
        )
        if commit.unused is not None:
            await self.blobs.delete(commit.unused.names)
            await self.store.delete_many([commit.unused.key])
        return Outcome.RERENDERED if commit.applied else Outcome.SKIPPED

    async def _write_pending(self, photo: models.Photo, names: Iterable[str]) -> Key:
        pending_key = _pending_key(photo)
        (earlier,) = await self.store.get_many([pending_key])
        kept = models.stray_blob_from_entity(earlier).names if earlier is not None else ()
        record = models.StrayBlob(
            photo.owner_id,
            pending_key.name,
            tuple(sorted({*kept, *names})),
            self.clock(),
        )
        await self.store.put_many([models.stray_blob_to_entity(record)])
        return pending_key

    async def _commit(
        self, tx: Transaction, read: models.Photo, rendered: _Rendering, pending_key: Key
    ) -> _Commit:
        found, pending = await tx.get_many([read.key, pending_key])
        # Ours too: a pass racing this one may have committed and taken the record.
        written = set(rendered.images.values())
        if pending is not None:
            written |= set(models.stray_blob_from_entity(pending).names)
        current = models.photo_from_entity(found) if found is not None else None
        # Images changed since the read: another pass got there first; ours are unused.
        applies = (
            current is not None
            and current.render_version < self.version
            and current.images == read.images
        )
        if current is not None and applies:
            updated = replace(
                current,
                images=rendered.images,
                blurhash=rendered.blurhash,
                dominant_color=rendered.dominant_color,
                render_version=self.version,
            )
            tx.put_many([models.photo_to_entity(updated)])
            unused_names = (written | set(current.images.values())) - set(rendered.images.values())
        else:
            in_use = set(current.images.values()) if current is not None else set()
            unused_names = written - in_use
        tx.delete_many([pending_key])
        unused = None
        if unused_names:
            unused = models.StrayBlob(
                read.owner_id, models.new_id(), tuple(sorted(unused_names)), self.clock()
            )
            tx.put_many([models.stray_blob_to_entity(unused)])
        return _Commit(applies, unused)


def _pending_key(photo: models.Photo) -> Key:
    return models.user_key(photo.owner_id).child(models.STRAY_BLOB, f"rerender-{photo.id}")
