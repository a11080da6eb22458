"""Killing the server (SIGKILL) while a createPhoto has its blob files on disk and
its Photo not yet committed (tests/utils/crash_points.py `upload-blobs`): after
the kill no Photo exists, and every file is named by the committed StrayBlob
record the cleanup job reclaims them by (resolvers/photo_writes.py)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from media.local_blobs import INCOMING_PREFIX
from store import models
from tests.utils import images
from tests.utils.builders import make_user
from tests.utils.crash_server import CrashSite
from tests.utils.tasks_app import eventually
from tests.utils.uploads import create_photo, stray_records

pytestmark = pytest.mark.slow  # it starts a server in a subprocess


async def test_a_kill_between_an_uploads_blobs_and_its_photo_leaves_them_reclaimable(
    crash: CrashSite,
) -> None:
    alice = await make_user(crash.store, "alice")
    media = crash.var / "media"
    photo = images.encode(images.marked_photo(160, 120), "JPEG")
    async with crash.server("upload-blobs") as server:
        posting = asyncio.ensure_future(create_photo(server.http, crash.bearer(alice), photo))

        async def written() -> bool:  # under their names, not mid-write as temporary files
            return media.is_dir() and len(blob_files(media)) == 3

        await eventually(written, within=30, what="the upload's three files on disk")
        server.kill()
        with contextlib.suppress(Exception):  # its connection died with the server
            await posting
    on_disk = blob_files(media)
    [record] = await stray_records(crash.store)
    assert record.owner_id == alice.id
    assert set(record.names) == on_disk  # each file findable by the cleanup job
    # And no Photo the app could show without its images.
    assert await crash.store.get_many([models.photo_key(alice.id, record.id)]) == [None]


def blob_files(media: Path) -> set[str]:
    return {
        f.name for f in media.iterdir() if f.is_file() and not f.name.startswith(INCOMING_PREFIX)
    }
