"""Uploads with Cloud Storage behind the blob port (the emulator): the URLs a client
gets are public bucket URLs that load, and a deleted photo's objects are gone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app import create_app
from settings import Settings
from store.sqlite import SQLiteStore
from tests.utils import images
from tests.utils.accounts import bearer, call, create_profile
from tests.utils.clients import serving
from tests.utils.storage_emulator import StorageEmulator
from tests.utils.uploads import DELETE_PHOTO, create_photo

SIZES = ("thumbnail", "medium", "large")


@pytest.fixture
async def http(
    storage_emulator: StorageEmulator, settings: Settings, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        settings, store=SQLiteStore(tmp_path / "t.db"), blobs=storage_emulator.new_blob_store()
    )
    async with serving(app) as client:
        yield client


async def test_photos_are_served_from_the_bucket(
    http: httpx.AsyncClient, settings: Settings, storage_emulator: StorageEmulator
) -> None:
    alice = bearer(settings, "alice")
    await create_profile(http, alice, username="alice", displayName="Alice")
    posted = await create_photo(http, alice, images.heic_with_gps(), caption="from the bucket")
    photo = posted["photo"]
    async with httpx.AsyncClient() as web:
        for size in SIZES:
            assert photo[size].startswith(storage_emulator.endpoint + "/photos-")
            response = await web.get(photo[size])
            assert response.status_code == 200
            images.assert_no_metadata(response.content)
            images.assert_upright(response.content, 480, 320)
        deleted = await call(http, DELETE_PHOTO, {"input": {"photoId": photo["id"]}}, alice)
        assert deleted["data"]["deletePhoto"]["errors"] == []
        for size in SIZES:
            assert (await web.get(photo[size])).status_code == 404
