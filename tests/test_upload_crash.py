"""Killing the server (SIGKILL) while a createPhoto has its blob files on disk and
its Photo not yet committed (tests/utils/crash_points.py `upload-blobs`): after
the kill no Photo exists, and every file is named by the committed StrayBlob
record the cleanup job reclaims them by (resolvers/photo_writes.py)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest

from media.local_blobs import INCOMING_PREFIX
from resolvers.upload_records import BATCH
from store import models
from tests.utils import images
from tests.utils.builders import make_user
from tests.utils.crash_server import CrashSite, Server
from tests.utils.tasks_app import eventually
from tests.utils.uploads import create_photo, stray_records, written_ahead

PHOTO = images.encode(images.marked_photo(160, 120), "JPEG")

pytestmark = pytest.mark.slow  # it starts a server in a subprocess


async def test_a_kill_between_an_uploads_blobs_and_its_photo_leaves_them_reclaimable(
    crash: CrashSite,
) -> None:
    alice = await make_user(crash.store, "alice")
    media = crash.var / "media"
    async with crash.server("upload-blobs") as server:
        posting = asyncio.ensure_future(create_photo(server.http, crash.bearer(alice), PHOTO))
        await killed_with_files_on_disk(server, posting, media, expected=3)
    on_disk = blob_files(media)
    [record] = await stray_records(crash.store)
    assert record.owner_id == alice.id  # the pool was empty: the upload wrote its own
    assert set(record.names) == on_disk  # each file findable by the cleanup job
    # And no Photo the app could show without its images.
    assert await crash.store.get_many([models.photo_key(alice.id, record.id)]) == [None]


async def test_a_kill_after_an_upload_took_a_record_written_ahead_leaves_it_reclaimable(
    crash: CrashSite,
) -> None:
    """The same with a record written ahead (resolvers/upload_records.py): the first
    upload posts and fills the pool; the second takes a record and is killed."""
    alice = await make_user(crash.store, "alice")
    media = crash.var / "media"
    async with crash.server("upload-blobs-ahead") as server:
        first = await create_photo(server.http, crash.bearer(alice), PHOTO)
        assert first["errors"] == [], first
        posted = blob_files(media)

        async def filled() -> bool:
            return len(await written_ahead(crash.store)) == BATCH

        await eventually(filled, within=30, what="the records written ahead")
        posting = asyncio.ensure_future(create_photo(server.http, crash.bearer(alice), PHOTO))
        await killed_with_files_on_disk(server, posting, media, expected=6)
    unposted = blob_files(media) - posted
    [taken] = [r for r in await written_ahead(crash.store) if set(r.names) & unposted]
    assert set(taken.names) == unposted  # each file findable by the cleanup job
    assert await stray_records(crash.store) == []  # and no record of its own was needed
    assert await crash.store.get_many([models.photo_key(alice.id, taken.id)]) == [None]


async def killed_with_files_on_disk(
    server: Server, posting: asyncio.Future[Any], media: Path, expected: int
) -> None:
    async def written() -> bool:  # under their names, not mid-write as temporary files
        return len(blob_files(media)) == expected

    await eventually(written, within=30, what="the upload's three files on disk")
    server.kill()
    with contextlib.suppress(Exception):  # its connection died with the server
        await posting


def blob_files(media: Path) -> set[str]:
    if not media.is_dir():
        return set()
    return {
        f.name for f in media.iterdir() if f.is_file() and not f.name.startswith(INCOMING_PREFIX)
    }
