"""The re-render job's workers as processes beside a running server: one is killed
with SIGKILL in the middle of a batch, a second one finishes the job once the dead
one's leases lapse, and every photo ends re-rendered exactly once in effect."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from media.derivatives import RENDER_VERSION
from media.local_blobs import LocalBlobStore
from settings import Settings
from store.sqlite import SQLiteStore
from store.sqlite_db import SQLiteDatabase
from store.sqlite_lock import claim_file
from tests.utils.clients import app_client
from tests.utils.rerender import (
    assert_no_blob_lost_or_orphaned,
    owner_photos,
    rendered_once,
    upload_stale_photos,
)

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PHOTOS = 12
LEASE_SECONDS = 4
WORKER = ["work", "--batch", "4", "--lease-seconds", str(LEASE_SECONDS)]
SUMMARY = re.compile(r"done (\d+), failed (\d+), skipped (\d+), retried (\d+), elapsed")


class Tasks:
    """What the pull queue holds, read from the file as another process sees it."""

    def __init__(self, path: Path) -> None:
        self.database = SQLiteDatabase(path)

    def pending(self) -> int:
        query = "SELECT count(*) FROM pull_tasks"
        return int(self.database.read_blocking(lambda c: c.execute(query).fetchone()[0]))

    def held(self) -> int:
        query = "SELECT count(*) FROM pull_tasks WHERE lease_until > ?"
        now = time.time()
        return int(self.database.read_blocking(lambda c: c.execute(query, (now,)).fetchone()[0]))


def command(
    settings: Settings, *arguments: str, module: str = "tasks.rerender", hang: int | None = None
) -> dict[str, object]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TIMELINE_")}
    environment |= {
        "TIMELINE_ENV": "local",
        "TIMELINE_VAR_DIR": str(settings.var_dir),
        "TIMELINE_SQLITE_PATH": str(settings.sqlite_path),
    }
    return {
        "args": [sys.executable, "-m", module, *([str(hang)] if hang else []), *arguments],
        "env": environment,
        "cwd": PROJECT_ROOT,
        "stdout": subprocess.PIPE,
        "stderr": subprocess.PIPE,
        "text": True,
    }


def kill_when_hanging(settings: Settings, hang_on_ack: int) -> None:
    """Start a worker whose `hang_on_ack`th acknowledgement never returns, and
    SIGKILL it there: that photo is re-rendered and committed, its task and the
    rest of its batch still leased."""
    worker = subprocess.Popen(  # type: ignore[call-overload]
        **command(settings, *WORKER, module="tests.utils.rerender_crash_main", hang=hang_on_ack)
    )
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline() == "hanging\n", worker.communicate(timeout=30)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.communicate(timeout=30)


def run_to_end(settings: Settings, *arguments: str) -> str:
    finished = subprocess.run(**command(settings, *arguments), timeout=300, check=False)  # type: ignore[call-overload]
    assert finished.returncode == 0, finished.stderr
    return str(finished.stdout)


async def test_a_worker_killed_mid_batch_leaves_the_rest_to_the_next_and_none_done_twice(
    settings: Settings,
) -> None:
    store = SQLiteStore(settings.sqlite_path)
    blobs = LocalBlobStore(settings.var_dir / "media")
    async with app_client(settings, store) as http:
        stale = await upload_stale_photos(http, settings, store, PHOTOS)
    expected = {photo.id: rendered_once(blobs.root, photo) for photo in stale}
    tasks = Tasks(settings.sqlite_path)

    with claim_file(settings.sqlite_path, shared=False):  # as the server holds it while it runs
        assert run_to_end(settings, "enqueue").startswith(f"{PHOTOS} photos, {PHOTOS} tasks added")
        assert run_to_end(settings, "enqueue").startswith(f"{PHOTOS} photos, 0 tasks added")

        kill_when_hanging(settings, hang_on_ack=3)  # in its first batch of 4
        left, held = tasks.pending(), tasks.held()
        assert (left, held) == (PHOTOS - 2, 2)  # the committed one, and one not started

        output = run_to_end(settings, *WORKER, "--idle-seconds", str(LEASE_SECONDS + 4))

    summary = SUMMARY.search(output)
    assert summary is not None, output
    done, failed, skipped, retried = (int(group) for group in summary.groups())
    assert (failed, retried) == (0, 0)
    assert (done, skipped) == (left - 1, 1)  # skipped: committed by the dead worker
    assert tasks.pending() == 0
    for photo in await owner_photos(store):
        assert photo.render_version == RENDER_VERSION
        assert dict(photo.images) == expected[photo.id]  # a second pass would differ
    await assert_no_blob_lost_or_orphaned(store, blobs)
    tasks.database.close()
    await store.close()
