"""The order that keeps blobs findable: when a createPhoto's blob is written, a
committed StrayBlob record already names it (so a process killed between the
blob writes and the Photo's commit leaves nothing the cleanup job cannot find),
and a refused image writes no blob and leaves no record (an empty or unknown file
is refused before anything is written).

The blob store port is wrapped by a store of files that looks the record up in
the store before it writes; the image thread hands the writes over, so the look-up
is scheduled on the event loop from there."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from concurrent.futures import Future
from pathlib import Path

from app import create_app
from media.local_blobs import LocalBlobStore
from settings import Settings
from store import models
from store.port import Store
from tests.utils import images
from tests.utils.accounts import bearer, create_profile
from tests.utils.clients import serving
from tests.utils.uploads import create_photo, stray_records

OWNER = "owner-uid"


class RecordCheckingBlobs(LocalBlobStore):
    """Writes only after reading, from the store, the StrayBlob record of the
    blobs' photo; notes each name and whether a record named it."""

    def __init__(self, root: Path, store: Store, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(root)
        self.store = store
        self.loop = loop
        self.written: dict[str, bool] = {}  # name: named by a committed record

    def start_put_many(self, blobs: Mapping[str, tuple[bytes, str]]) -> Future[None]:
        return asyncio.run_coroutine_threadsafe(self._check_then_put(dict(blobs)), self.loop)

    async def _check_then_put(self, blobs: dict[str, tuple[bytes, str]]) -> None:
        photo_id = next(iter(blobs)).split("-", 1)[0]
        key = models.user_key(OWNER).child(models.STRAY_BLOB, photo_id)
        (record,) = await self.store.get_many([key])
        named = set(models.stray_blob_from_entity(record).names) if record is not None else set()
        self.written.update({name: name in named for name in blobs})
        await asyncio.wrap_future(super().start_put_many(blobs))


async def test_every_blob_is_named_by_a_committed_record_before_it_is_written(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    blobs = RecordCheckingBlobs(tmp_path / "media", store, asyncio.get_running_loop())
    as_owner = bearer(settings, OWNER)
    async with serving(create_app(settings, store=store, blobs=blobs)) as http:
        await create_profile(http, as_owner, username="owner", displayName="O")
        posted = [await create_photo(http, as_owner, images.png()) for _ in "ab"]
        refused = await create_photo(http, as_owner, b"not an image")
    assert [payload["errors"] for payload in posted] == [[], []]
    assert [error["code"] for error in refused["errors"]] == ["UNSUPPORTED_IMAGE"]
    assert len(blobs.written) == 6  # three sizes of the two photos, none of the refused one
    assert all(blobs.written.values()), blobs.written
    # Committed photos took their records; the refused image left none behind.
    assert await stray_records(store) == []


async def test_an_empty_or_unknown_file_is_refused_before_any_write(
    store: Store, settings: Settings
) -> None:
    """Junk costs a read of the viewer's profile and nothing else: no StrayBlob
    record written and deleted again (two writes a request an attacker could buy)."""
    as_owner = bearer(settings, OWNER)
    async with serving(create_app(settings, store=store)) as http:
        await create_profile(http, as_owner, username="owner", displayName="O")
        refusals = []
        for junk in (b"not an image", b""):
            before = store.round_trips
            refused = await create_photo(http, as_owner, junk)
            refusals.append(([e["code"] for e in refused["errors"]], store.round_trips - before))
    # At most the profile's read (the cache may answer it); a record's write and
    # its delete would be two more.
    assert [codes for codes, _ in refusals] == [["UNSUPPORTED_IMAGE"], ["EMPTY_IMAGE"]]
    assert [trips <= 1 for _, trips in refusals] == [True, True], refusals
    assert await stray_records(store) == []
