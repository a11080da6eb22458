"""Choosing the pull queue from TIMELINE_* variables, and the re-render command on
Pub/Sub (the emulator) as production would run it."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from media.derivatives import RENDER_VERSION
from settings import SettingsError, load_settings
from store.sqlite import SQLiteStore
from store.sqlite_db import shared_database
from taskqueue.pull.embedded import EmbeddedPullQueue
from taskqueue.pull.pubsub import PubSubPullQueue
from taskqueue.pull.wiring import pull_queue_from_settings
from tasks.rerender import arguments, run
from tests.utils.clients import app_client
from tests.utils.pubsub_emulator import PROJECT_ID, PubSubEmulator
from tests.utils.rerender import owner_photos, upload_stale_photos

PRODUCTION = {
    "GAE_ENV": "standard",
    "GOOGLE_CLOUD_PROJECT": "photo-timeline-prod",
    "TIMELINE_SECRET_KEY": "s" * 40,
}


async def test_locally_the_pull_queue_is_a_table_in_the_embedded_file(tmp_path: Path) -> None:
    settings = load_settings({"TIMELINE_ENV": "local", "TIMELINE_VAR_DIR": str(tmp_path)})
    assert settings.pull_queue.backend == "embedded"
    queue = await pull_queue_from_settings(settings, shared_database(settings.sqlite_path))
    assert isinstance(queue, EmbeddedPullQueue)


def test_in_production_the_pull_queue_is_pub_sub_in_the_project() -> None:
    config = load_settings(PRODUCTION).pull_queue
    assert (config.backend, config.pubsub_project) == ("pubsub", "photo-timeline-prod")
    assert (config.pubsub_topic, config.pubsub_subscription) == ("pull-tasks", "pull-tasks-worker")
    with pytest.raises(SettingsError, match="TIMELINE_PULL_QUEUE=embedded"):
        load_settings({**PRODUCTION, "TIMELINE_PULL_QUEUE": "embedded"})
    with pytest.raises(SettingsError, match="'embedded' or 'pubsub'"):
        load_settings({**PRODUCTION, "TIMELINE_PULL_QUEUE": "sqs"})


async def test_the_re_render_command_runs_on_pub_sub(
    tmp_path: Path,
    pubsub_emulator: PubSubEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    suffix = uuid.uuid4().hex[:12]
    settings = load_settings(
        {
            "TIMELINE_ENV": "local",
            "TIMELINE_VAR_DIR": str(tmp_path),
            "TIMELINE_PULL_QUEUE": "pubsub",
            "TIMELINE_PUBSUB_PROJECT": PROJECT_ID,
            "TIMELINE_PULL_TOPIC": f"rerender-{suffix}",
            "TIMELINE_PULL_SUBSCRIPTION": f"rerender-worker-{suffix}",
        }
    )
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_emulator.host)
    store = SQLiteStore(settings.sqlite_path)
    async with app_client(settings, store) as http:
        await upload_stale_photos(http, settings, store, 2)
    queue = await pull_queue_from_settings(settings, shared_database(settings.sqlite_path))
    assert isinstance(queue, PubSubPullQueue)
    await queue.close()

    assert await run(arguments(["enqueue"]), settings) == 0
    assert await run(arguments(["enqueue"]), settings) == 0  # Pub/Sub keeps both copies
    assert await run(arguments(["work", "--idle-seconds", "3"]), settings) == 0

    # Each photo was enqueued twice: the second copy finds it current.
    assert "done 2, failed 0, skipped 2, retried 0" in capsys.readouterr().out

    assert [p.render_version for p in await owner_photos(store)] == [RENDER_VERSION] * 2
    await store.close()
