"""The order that keeps blobs findable: when a createPhoto's blob is written, a
committed StrayBlob record already names it (so a process killed between the
blob writes and the Photo's commit leaves nothing the cleanup job cannot find),
and a refused image writes no blob and leaves no record (an empty or unknown file
is refused before anything is written).

The blob store port is wrapped by a store of files that looks the record up in
the store before it writes; the image thread hands the writes over, so the look-up
is scheduled on the event loop from there.

The record's commit does not hold the image work up: the upload is rendered while
the record commits, and only its blob writes wait for the commit."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path

from app import create_app
from media.budget import MemoryBudget
from media.local_blobs import LocalBlobStore
from settings import Settings
from store import models
from store.errors import StoreUnavailable
from store.keys import Key
from store.port import Entity, Store
from tests.utils import images
from tests.utils.accounts import bearer, create_profile
from tests.utils.clients import serving
from tests.utils.delegating_store import DelegatingStore
from tests.utils.uploads import (
    APOLLO_HEADERS,
    FILE_MAP,
    create_photo,
    operations,
    stored_photos,
    stray_records,
)

OWNER = "owner-uid"
RENDER_WAIT_TURNS = 400  # of 5 ms: a bound on the wait, far over a small image's rendering


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
        # The upload's own record, or one written ahead for it (no owner then).
        owned = models.user_key(OWNER).child(models.STRAY_BLOB, photo_id)
        ahead = Key.of(models.STRAY_BLOB, photo_id)
        records = [r for r in await self.store.get_many([owned, ahead]) if r is not None]
        named = {name for r in records for name in models.stray_blob_from_entity(r).names}
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


class RecordHeldUntilRendered(DelegatingStore):
    """Holds each StrayBlob record's commit until the app's image work has rendered
    its upload (admitted and released its memory: media/budget.py), for a bounded
    wait that gives the event loop no turn (so the image job must have been started
    before the record's write was); notes whether it had, and the blob files that
    existed then."""

    def __init__(self, inner: Store, media_dir: Path) -> None:
        super().__init__(inner)
        self.media_dir = media_dir
        self.budget: MemoryBudget | None = None  # the app's, once it is built
        self.held: list[tuple[bool, list[str]]] = []  # (rendered first, files then)

    async def put_many(self, entities: Sequence[Entity]) -> None:
        # The upload's own record (the pool's, written ahead, is in no owner's group).
        if self.budget is not None and any(_owned_record(e) for e in entities):
            rendered = self.rendered(self.budget)
            self.held.append((rendered, sorted(p.name for p in self.media_dir.glob("*.webp"))))
        await self.inner.put_many(entities)

    @staticmethod
    def rendered(budget: MemoryBudget) -> bool:
        for _ in range(RENDER_WAIT_TURNS):
            if budget.high_water > 0 and budget.admitted == 0:
                return True
            time.sleep(0.005)  # the loop's thread, blocked: only the image thread runs
        return False


async def test_the_image_is_rendered_while_its_record_commits(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    """The record's commit (a wait for the writer, under load a queue) and the image
    work overlap, the image job submitted before the record's write is awaited (no
    turn of the loop between): the upload waits for the longer of the two, not for
    their sum, and still no blob is written before its record is committed."""
    media_dir = tmp_path / "media"
    held = RecordHeldUntilRendered(store, media_dir)
    app = create_app(settings, store=held, blobs=LocalBlobStore(media_dir))
    as_owner = bearer(settings, OWNER)
    async with serving(app) as http:
        await create_profile(http, as_owner, username="owner", displayName="O")
        held.budget = app.state.media.pipeline.budget
        posted = await create_photo(http, as_owner, images.png())
    assert posted["errors"] == [], posted
    # Rendered before its record's commit went on, and nothing written yet.
    assert held.held == [(True, [])]
    assert len(list(media_dir.glob("*.webp"))) == 3
    assert await stray_records(store) == []


def _owned_record(entity: Entity) -> bool:
    return entity.key.kind == models.STRAY_BLOB and entity.key.parent is not None


class RecordRefused(DelegatingStore):
    """Fails each StrayBlob record's write (the store unavailable), once the image
    work has rendered its upload: its blobs would be handed over next."""

    budget: MemoryBudget | None = None

    async def put_many(self, entities: Sequence[Entity]) -> None:
        if self.budget is not None and any(e.key.kind == models.STRAY_BLOB for e in entities):
            RecordHeldUntilRendered.rendered(self.budget)
            raise StoreUnavailable("the store is unavailable")
        await self.inner.put_many(entities)


class CountingBlobs(LocalBlobStore):
    handed_over = 0  # start_put_many calls

    def start_put_many(self, blobs: Mapping[str, tuple[bytes, str]]) -> Future[None]:
        self.handed_over += 1
        return super().start_put_many(blobs)


async def test_an_upload_whose_record_fails_hands_no_blob_over(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    refusing, blobs = RecordRefused(store), CountingBlobs(tmp_path / "media")
    app = create_app(settings, store=refusing, blobs=blobs)
    as_owner = bearer(settings, OWNER)
    async with serving(app) as http:
        await create_profile(http, as_owner, username="owner", displayName="O")
        refusing.budget = app.state.media.pipeline.budget
        failed = await http.post(
            "/graphql",
            headers={**APOLLO_HEADERS, **as_owner},
            data={"operations": json.dumps(operations()), "map": json.dumps(FILE_MAP)},
            files={"0": ("p.png", images.png(), "image/png")},
        )
    (error,) = failed.json()["errors"]
    assert error["extensions"]["code"] == "UNAVAILABLE", failed.text
    # Rendered, but its record never committed: nothing handed to the blob store.
    assert blobs.handed_over == 0
    assert list((tmp_path / "media").iterdir()) == []
    assert await stored_photos(store, OWNER) == []
