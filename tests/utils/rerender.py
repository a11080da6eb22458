"""Photos for the re-render job's tests: uploaded through the real app, then marked
as cut by an older pipeline, and what a single re-render of each must give."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import httpx

from media import blob_name, process_image
from media.derivatives import LARGE
from media.local_blobs import LocalBlobStore
from media.pipeline import ImageLimits
from settings import Settings
from store import models
from store.port import Store
from tests.utils import images
from tests.utils.accounts import bearer, create_profile
from tests.utils.draining import drain
from tests.utils.uploads import create_photo, stored_photos, stray_records


async def upload_stale_photos(
    http: httpx.AsyncClient, settings: Settings, store: Store, count: int
) -> list[models.Photo]:
    """`count` photos of alice's, each a different picture, stored as an older
    pipeline (render version 0) left them."""
    alice = bearer(settings, "alice-uid")
    await create_profile(http, alice, username="alice", displayName="Alice")
    for n in range(count):
        picture = images.marked_photo(480 + 16 * n, 320 + 8 * n)
        await create_photo(http, alice, images.jpeg_with_gps(picture), caption=f"photo {n}")
    # The uploads' follow-up tasks, which would count in a test's round trips (and race it)
    await drain(http)
    photos = await owner_photos(store)
    stale = [replace(photo, render_version=0) for photo in photos]
    await store.put_many([models.photo_to_entity(photo) for photo in stale])
    return stale


async def owner_photos(store: Store) -> list[models.Photo]:
    (claim,) = await store.get_many([models.username_key("alice")])
    assert claim is not None
    return await stored_photos(store, str(claim.properties["user_id"]))


def rendered_once(blobs_dir: Path, photo: models.Photo) -> dict[str, str]:
    """The image names one re-render of `photo` gives: the current pipeline run on
    its large image as stored now (a second pass would start from another one)."""
    large = (blobs_dir / photo.images[LARGE.name]).read_bytes()
    processed = process_image(io.BytesIO(large), ImageLimits())
    return {r.variant: blob_name(photo.id, r) for r in processed.renditions}


async def assert_no_blob_lost_or_orphaned(store: Store, blobs: LocalBlobStore) -> None:
    """Every image a photo uses exists; every other blob is named by a StrayBlob
    record (the cleanup job's), and no record names an image in use."""
    in_use = {name for photo in await owner_photos(store) for name in photo.images.values()}
    stray = {name for record in await stray_records(store) for name in record.names}
    files = {path.name for path in blobs.root.iterdir() if not path.name.startswith(".")}
    assert in_use <= files
    assert not in_use & stray
    assert files - in_use <= stray
