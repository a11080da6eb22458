"""The first cron jobs, on both stores, and the cron route that runs them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store import models
from store.keys import Key
from store.port import MAX_BATCH, Entity, Store
from taskqueue.context import JobContext
from taskqueue.embedded.database import task_database
from taskqueue.embedded.queue import EmbeddedQueue
from taskqueue.enqueue import Tasks
from tasks.cleanup import prune_idempotency_records, reclaim_stray_blobs
from tests.utils.tasks_app import running_app

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


class RecordingBlobs:
    """A blob port that only remembers what it was asked to delete."""

    def __init__(self) -> None:
        self.deleted: list[str] = []

    async def delete(self, names: Sequence[str]) -> None:
        self.deleted.extend(names)


@pytest.fixture
def tasks(tmp_path: Path) -> Tasks:
    return Tasks(EmbeddedQueue(task_database(tmp_path / "tasks.db")))


def record(user: str, name: str, created: datetime) -> Entity:
    key = models.idempotency_key(user, name)
    return models.idempotency_record(key, "fp", "{}", created, created + timedelta(hours=24))


async def test_prune_deletes_expired_idempotency_records_only(store: Store, tasks: Tasks) -> None:
    expired = [record("u1", f"old-{n:04d}", NOW - timedelta(hours=25, seconds=n)) for n in range(3)]
    # More than one batch of records from tasks' own group, to show it pages through.
    expired += [
        models.idempotency_record(
            Key.of(models.IDEMPOTENCY_RECORD, f"task:default/t{n}"),
            "task",
            "done",
            NOW - timedelta(days=2),
            NOW - timedelta(days=1, seconds=n),
        )
        for n in range(MAX_BATCH + 5)
    ]
    kept = [
        record("u1", "fresh", NOW - timedelta(hours=1)),
        record("u2", "exactly-now", NOW - timedelta(hours=24)),  # expires at NOW: not yet past
    ]
    for start in range(0, len(expired), MAX_BATCH):
        await store.put_many(expired[start : start + MAX_BATCH])
    await store.put_many(kept)

    context = JobContext(store, tasks, "prune_idempotency_records", clock=lambda: NOW)
    await prune_idempotency_records(context)
    await prune_idempotency_records(context)  # a retried cron run finds nothing more

    found = await store.get_many([e.key for e in kept])
    assert [e.properties if e else None for e in found] == [e.properties for e in kept]
    assert set(await store.get_many([e.key for e in expired])) == {None}


def stray(owner: str, photo: str, created: datetime) -> Entity:
    names = (f"{photo}-thumb.webp", f"{photo}-full.webp")
    return models.stray_blob_to_entity(models.StrayBlob(owner, photo, names, created))


async def test_reclaim_deletes_stray_blobs_older_than_a_day(store: Store, tasks: Tasks) -> None:
    old = [stray(f"u{n}", f"old{n}", NOW - timedelta(days=1, minutes=n + 1)) for n in range(3)]
    young = stray("u1", "uploading", NOW - timedelta(hours=23))
    await store.put_many([*old, young])
    blobs = RecordingBlobs()
    context = JobContext(store, tasks, "reclaim_stray_blobs", blobs=blobs, clock=lambda: NOW)

    await reclaim_stray_blobs(context)
    await reclaim_stray_blobs(context)

    assert sorted(blobs.deleted) == sorted(
        name for entity in old for name in models.stray_blob_from_entity(entity).names
    )
    assert set(await store.get_many([e.key for e in old])) == {None}
    assert [e.key for e in await store.get_many([young.key]) if e] == [young.key]


async def test_reclaim_without_a_blob_store_leaves_everything(store: Store, tasks: Tasks) -> None:
    record = stray("u1", "old", NOW - timedelta(days=3))
    await store.put_many([record])
    await reclaim_stray_blobs(JobContext(store, tasks, "reclaim_stray_blobs", clock=lambda: NOW))
    assert [e.key for e in await store.get_many([record.key]) if e] == [record.key]


async def test_the_cron_route_runs_a_job_and_logs_the_run(tmp_path: Path) -> None:
    async with running_app(tmp_path) as harness:
        old = record("u1", "old", datetime.now(UTC) - timedelta(days=2))
        await harness.store.put_many([old])
        response = await harness.http.get(
            "/_internal/cron/prune_idempotency_records", headers=harness.secret_headers
        )
        assert response.status_code == 200
        assert await harness.store.get_many([old.key]) == [None]
        (run,) = await harness.runs()
        assert (run.kind, run.name, run.status, run.attempt) == (
            "cron",
            "prune_idempotency_records",
            "done",
            1,
        )
        unknown = await harness.http.get("/_internal/cron/nope", headers=harness.secret_headers)
        assert unknown.status_code == 404
