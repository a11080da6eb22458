"""StrayBlob records written ahead of uploads (resolvers/upload_records.py): with
records in the pool, a createPhoto's path has one write (its Photo's transaction),
not two; with none, it writes its own record as before and the pool fills beside
it; many uploads at once never share a record; a refill that fails leaves uploads
on their own records; a record old enough to near the cleanup job's age is never
handed out. Writes are counted, never timed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app import create_app
from media.local_blobs import LocalBlobStore
from resolvers.upload_records import BATCH, MAX_AGE, UploadRecords
from settings import Settings
from store import models
from store.errors import StoreUnavailable
from store.port import Entity, Store, Transaction
from tests.utils import images
from tests.utils.accounts import bearer, create_profile
from tests.utils.clients import serving
from tests.utils.delegating_store import DelegatingStore
from tests.utils.tasks_app import eventually
from tests.utils.uploads import create_photo, stored_photos, stray_records, written_ahead

OWNER = "owner-uid"
CLIENTS = 12


class CountedWrites(DelegatingStore):
    """Notes each write: a plain put or delete (with its kinds), or a transaction."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.writes: list[str] = []

    async def put_many(self, entities: Sequence[Entity]) -> None:
        self.writes.append("put " + ",".join(sorted({_kind(e) for e in entities})))
        await self.inner.put_many(entities)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self.inner.transaction() as tx:
            yield tx
        self.writes.append("transaction")


def _kind(entity: Entity) -> str:
    if entity.key.kind == models.STRAY_BLOB and entity.key.parent is None:
        return "StrayBlob ahead"
    return entity.key.kind


class AheadRefused(DelegatingStore):
    """The store, except that writing records ahead fails (the store unavailable)."""

    async def put_many(self, entities: Sequence[Entity]) -> None:
        if any(e.key.kind == models.STRAY_BLOB and e.key.parent is None for e in entities):
            raise StoreUnavailable("the store is unavailable")
        await self.inner.put_many(entities)


async def pool_filled(records: UploadRecords) -> None:
    async def full() -> bool:
        return len(records.ready) == BATCH

    await eventually(full, what="the pool's refill")


async def test_an_upload_with_records_ahead_writes_once_and_one_without_falls_back(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    counted = CountedWrites(store)
    app = create_app(settings, store=counted, blobs=LocalBlobStore(tmp_path / "media"))
    as_owner = bearer(settings, OWNER)
    records: UploadRecords = app.state.upload_records
    async with serving(app) as http:
        await create_profile(http, as_owner, username="owner", displayName="O")
        assert not records.ready  # nothing is written ahead before an upload asks
        counted.writes.clear()
        first = await create_photo(http, as_owner, images.png())
        await pool_filled(records)
        fallback = list(counted.writes)
        counted.writes.clear()
        second = await create_photo(http, as_owner, images.png())
        pooled = list(counted.writes)
    assert [first["errors"], second["errors"]] == [[], []]
    # Empty pool: the upload's own record, then its Photo, and the refill beside them.
    assert [w for w in fallback if w != "put StrayBlob ahead"] == ["put StrayBlob", "transaction"]
    assert fallback.count("put StrayBlob ahead") == 1, fallback
    # Records ahead: the Photo's transaction is the upload's only write.
    assert pooled == ["transaction"], pooled
    # The first took its own record, the second one written ahead: both went with
    # their Photos, and the pool's other records are still there for the next ones.
    assert await stray_records(store) == []
    assert {r.id for r in await written_ahead(store)} == {r.id for r in records.ready}
    assert len(records.ready) == BATCH - 1
    photos = await stored_photos(store, OWNER)
    assert len(photos) == 2
    assert len(list((tmp_path / "media").glob("*.webp"))) == 6


async def test_concurrent_uploads_never_share_a_record(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    app = create_app(settings, store=store, blobs=LocalBlobStore(tmp_path / "media"))
    records: UploadRecords = app.state.upload_records
    owners = [f"owner-{n}" for n in range(CLIENTS)]
    async with serving(app) as http:
        for n, owner in enumerate(owners):
            as_owner = bearer(settings, owner)
            await create_profile(http, as_owner, username=f"user{n}", displayName="U")
        warm_up = await create_photo(http, bearer(settings, owners[0]), images.png())
        assert warm_up["errors"] == [], warm_up
        await pool_filled(records)
        posted = await asyncio.gather(
            *(create_photo(http, bearer(settings, owner), images.png()) for owner in owners)
        )

        async def settled() -> bool:
            return records.refill is None

        await eventually(settled, what="the refill beside the uploads")
    assert [payload["errors"] for payload in posted] == [[]] * CLIENTS
    ids = [payload["photo"]["id"] for payload in posted]
    assert len(set(ids)) == CLIENTS
    # Each Photo has its own three files, and no record taken is left behind.
    photos = [p for owner in owners for p in await stored_photos(store, owner)]
    assert len({p.id for p in photos}) == CLIENTS + 1
    assert len(list((tmp_path / "media").glob("*.webp"))) == 3 * (CLIENTS + 1)
    assert await stray_records(store) == []
    assert {r.id for r in await written_ahead(store)} == {r.id for r in records.ready}


async def test_a_failed_refill_leaves_uploads_on_their_own_records(
    store: Store, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings, store=AheadRefused(store), blobs=LocalBlobStore(tmp_path / "m"))
    records: UploadRecords = app.state.upload_records
    as_owner = bearer(settings, OWNER)
    with caplog.at_level(logging.WARNING, logger="timeline.photos"):
        async with serving(app) as http:
            await create_profile(http, as_owner, username="owner", displayName="O")
            posted = [await create_photo(http, as_owner, images.png()) for _ in "ab"]
    assert [payload["errors"] for payload in posted] == [[], []]
    assert not records.ready
    assert "could not write StrayBlob records ahead" in caplog.text
    assert len(await stored_photos(store, OWNER)) == 2
    assert await all_records_gone(store)


async def all_records_gone(store: Store) -> bool:
    return await stray_records(store) == [] and await written_ahead(store) == []


async def test_a_record_near_the_cleanup_age_is_not_handed_out(store: Store) -> None:
    now = [datetime(2026, 11, 30, 12, tzinfo=UTC)]
    records = UploadRecords(store, lambda: now[0])
    assert records.take() is None  # empty: the caller writes its own; a refill starts
    await pool_filled(records)
    fresh = records.take()
    assert fresh is not None
    assert fresh.owner_id is None
    now[0] += MAX_AGE + timedelta(seconds=1)
    assert records.take() is None  # older ones are the cleanup job's
    await pool_filled(records)
    assert all(r.created_at == now[0] for r in records.ready)
    await records.close()
