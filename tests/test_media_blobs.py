"""The blob store contract, on the local files adapter and on Cloud Storage (emulator).

Every client-visible promise is checked through the URL the adapter hands out:
the local one through the app's /media route, the Cloud Storage one over HTTP
from the emulator's public endpoint.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app import create_app
from media.blobs import BlobStore, InvalidBlobName, is_valid_name, upload_names
from media.derivatives import VARIANTS
from media.gcs_blobs import PUBLIC_HOST, GCSBlobStore
from media.local_blobs import INCOMING_PREFIX, STALE_INCOMING_SECONDS, LocalBlobStore
from settings import Settings
from store.sqlite import SQLiteStore
from tests.utils.clients import serving
from tests.utils.storage_emulator import StorageEmulator

NAME = "0123456789abcdef-large-00112233445566778899aabbccddeeff.webp"
OTHER = "0123456789abcdef-medium-ffeeddccbbaa99887766554433221100.webp"
BAD_NAMES = ["", "../secret.key.webp", "a/b.webp", ".hidden.webp", "x.exe", "..", "%2e.webp"]

Fetch = Callable[[str], Awaitable[httpx.Response]]


@dataclass
class Adapter:
    blobs: BlobStore
    fetch: Fetch


@pytest.fixture(params=["local", "gcs"])
async def adapter(
    request: pytest.FixtureRequest, settings: Settings, tmp_path: Path
) -> AsyncIterator[Adapter]:
    if request.param == "gcs":
        emulator: StorageEmulator = request.getfixturevalue("storage_emulator")
        async with httpx.AsyncClient() as http:
            yield Adapter(emulator.new_blob_store(), http.get)
        return
    local = LocalBlobStore(tmp_path / "media")
    app = create_app(settings, store=SQLiteStore(tmp_path / "blobs.db"), blobs=local)
    async with serving(app) as http:
        yield Adapter(local, http.get)


async def test_what_is_put_can_be_got_and_fetched_from_its_url(adapter: Adapter) -> None:
    await adapter.blobs.put(NAME, b"RIFF-bytes", "image/webp")
    assert await adapter.blobs.get(NAME) == b"RIFF-bytes"
    url = adapter.blobs.url(NAME)
    assert url == adapter.blobs.url(NAME)
    assert url.endswith("/" + NAME)
    response = await adapter.fetch(url)
    assert response.status_code == 200
    assert response.content == b"RIFF-bytes"
    assert response.headers["content-type"] == "image/webp"


async def test_putting_the_same_blob_again_is_harmless(adapter: Adapter) -> None:
    await adapter.blobs.put(NAME, b"same", "image/webp")
    await adapter.blobs.put(NAME, b"same", "image/webp")
    assert await adapter.blobs.get(NAME) == b"same"


async def test_a_missing_blob_is_none_and_its_url_is_not_found(adapter: Adapter) -> None:
    assert await adapter.blobs.get(NAME) is None
    assert (await adapter.fetch(adapter.blobs.url(NAME))).status_code == 404


async def test_delete_takes_what_exists_and_ignores_what_does_not(adapter: Adapter) -> None:
    await adapter.blobs.put(NAME, b"one", "image/webp")
    await adapter.blobs.put(OTHER, b"two", "image/webp")
    await adapter.blobs.delete([NAME, "0000000000000000-thumbnail-0.webp"])
    assert await adapter.blobs.get(NAME) is None
    assert await adapter.blobs.get(OTHER) == b"two"
    await adapter.blobs.delete([NAME])  # a cleanup job may retry a half-done delete
    await adapter.blobs.delete([])
    assert (await adapter.fetch(adapter.blobs.url(NAME))).status_code == 404


async def test_blobs_started_from_a_thread_are_all_there_when_their_future_is_done(
    adapter: Adapter,
) -> None:
    # As the image work hands them over: from a thread that is not the event loop's.
    started = await asyncio.to_thread(
        adapter.blobs.start_put_many,
        {NAME: (b"large", "image/webp"), OTHER: (b"medium", "image/webp")},
    )
    await asyncio.wrap_future(started)
    assert [await adapter.blobs.get(name) for name in (NAME, OTHER)] == [b"large", b"medium"]


def test_names_drawn_for_an_upload_name_every_size_apart_from_any_other_upload() -> None:
    first, second = upload_names("0123456789abcdef"), upload_names("0123456789abcdef")
    assert set(first) == set(second) == {variant.name for variant in VARIANTS}
    assert all(is_valid_name(name) for name in first.values())
    assert set(first.values()).isdisjoint(second.values())


@pytest.mark.parametrize("name", BAD_NAMES)
async def test_names_outside_the_blob_alphabet_are_refused(adapter: Adapter, name: str) -> None:
    with pytest.raises(InvalidBlobName):
        await adapter.blobs.put(name, b"x", "image/webp")
    with pytest.raises(InvalidBlobName):
        await adapter.blobs.get(name)
    with pytest.raises(InvalidBlobName):
        await adapter.blobs.delete([name])
    with pytest.raises(InvalidBlobName):
        adapter.blobs.url(name)


async def test_cloud_storage_objects_cache_forever(storage_emulator: StorageEmulator) -> None:
    blobs = storage_emulator.new_blob_store()
    await blobs.put(NAME, b"bytes", "image/webp")
    bucket = storage_emulator.client().bucket(blobs.bucket_name)
    stored = bucket.get_blob(NAME)
    assert stored.cache_control == "public, max-age=31536000, immutable"
    assert stored.content_type == "image/webp"


def test_cloud_storage_urls_are_public_and_need_no_signing(
    storage_emulator: StorageEmulator,
) -> None:
    blobs = GCSBlobStore("photos-prod", client=storage_emulator.client())
    assert blobs.url(NAME) == f"{PUBLIC_HOST}/photos-prod/{NAME}"


def test_a_local_store_removes_the_temporary_files_a_killed_writer_left(tmp_path: Path) -> None:
    """A SIGKILL in the middle of a write leaves `.incoming-*` under no record's name:
    the next store on the directory removes those older than any live write, and
    leaves a fresh one (another process's write under way) and every blob alone."""
    LocalBlobStore(tmp_path)  # the directory, as a first start makes it
    left = tmp_path / f"{INCOMING_PREFIX}killed"
    fresh = tmp_path / f"{INCOMING_PREFIX}writing"
    blob = tmp_path / NAME
    for path in (left, fresh, blob):
        path.write_bytes(b"x")
    long_ago = time.time() - STALE_INCOMING_SECONDS - 60
    os.utime(left, (long_ago, long_ago))
    os.utime(blob, (long_ago, long_ago))

    LocalBlobStore(tmp_path)

    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([fresh.name, NAME])
