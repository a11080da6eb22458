"""The first cron jobs, on both stores, and the cron route that runs them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
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
from tests.utils.contexts import LocalPorts, local_ports
from tests.utils.tasks_app import running_app

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def tasks(tmp_path: Path) -> Tasks:
    return Tasks(EmbeddedQueue(task_database(tmp_path / "tasks.db")))


@pytest.fixture
async def ports(tmp_path: Path) -> AsyncIterator[LocalPorts]:
    async with local_ports(tmp_path) as ports:
        yield ports


def job_context(store: Store, tasks: Tasks, ports: LocalPorts, job: str) -> JobContext:
    return JobContext(store, tasks, job, ports.blobs, ports.push, clock=lambda: NOW)


def record(user: str, name: str, created: datetime) -> Entity:
    key = models.idempotency_key(user, name)
    return models.idempotency_record(key, "fp", "{}", created, created + timedelta(hours=24))


async def test_prune_deletes_expired_idempotency_records_only(
    store: Store, tasks: Tasks, ports: LocalPorts
) -> None:
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

    context = job_context(store, tasks, ports, "prune_idempotency_records")
    await prune_idempotency_records(context)
    await prune_idempotency_records(context)  # a retried cron run finds nothing more

    found = await store.get_many([e.key for e in kept])
    assert [e.properties if e else None for e in found] == [e.properties for e in kept]
    assert set(await store.get_many([e.key for e in expired])) == {None}


def stray(owner: str, photo: str, created: datetime) -> Entity:
    names = (f"{photo}-thumb.webp", f"{photo}-full.webp")
    return models.stray_blob_to_entity(models.StrayBlob(owner, photo, names, created))


def blob_names(records: Sequence[Entity]) -> list[str]:
    return [name for record in records for name in models.stray_blob_from_entity(record).names]


async def test_reclaim_deletes_stray_blobs_older_than_a_day(
    store: Store, tasks: Tasks, ports: LocalPorts
) -> None:
    old = [stray(f"u{n}", f"old{n}", NOW - timedelta(days=1, minutes=n + 1)) for n in range(3)]
    young = stray("u1", "uploading", NOW - timedelta(hours=23))
    for name in blob_names([*old, young]):
        await ports.blobs.put(name, b"webp", "image/webp")
    await store.put_many([*old, young])
    context = job_context(store, tasks, ports, "reclaim_stray_blobs")

    await reclaim_stray_blobs(context)
    await reclaim_stray_blobs(context)

    assert [await ports.blobs.get(name) for name in blob_names(old)] == [None] * 6
    assert [await ports.blobs.get(name) for name in blob_names([young])] == [b"webp", b"webp"]
    assert set(await store.get_many([e.key for e in old])) == {None}
    assert [e.key for e in await store.get_many([young.key]) if e] == [young.key]


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
