"""Task and cron contexts built by hand, with the real collaborators production
hands the handlers: the app's own (store, queue, push sender, blob store, mail), or
the local adapters in a directory of the test's for tests that run without an app."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from clock import Clock, system_clock
from media.local_blobs import LocalBlobStore
from push.outbox import OutboxPush
from store.port import Store
from taskqueue.context import JobContext, TaskContext, TaskInfo
from tests.utils.draining import app_of


def app_task_context(
    http: httpx.AsyncClient,
    info: TaskInfo,
    *,
    store: Store | None = None,
    clock: Clock = system_clock,
) -> TaskContext:
    """A delivery of a task as the app's queue would hand it; `store`: another view
    of the app's store (a faulty one, say)."""
    state = app_of(http).state
    runtime = state.tasks  # its store reads past the app's cache, as tasks do
    return TaskContext(
        store or runtime.store, runtime.tasks, info, state.push, clock=clock, mail=state.mail
    )


def app_job_context(
    http: httpx.AsyncClient, job: str, *, clock: Clock = system_clock
) -> JobContext:
    """A run of a cron job as the app's cron route would hand it."""
    state = app_of(http).state
    runtime = state.tasks
    return JobContext(
        runtime.store, runtime.tasks, job, state.blobs, state.push, clock=clock, mail=state.mail
    )


@dataclass(frozen=True)
class LocalPorts:
    blobs: LocalBlobStore
    push: OutboxPush


@contextlib.asynccontextmanager
async def local_ports(root: Path) -> AsyncIterator[LocalPorts]:
    """The embedded blob store and push outbox, under `root`."""
    push = OutboxPush(root / "push.db")
    try:
        yield LocalPorts(LocalBlobStore(root / "media"), push)
    finally:
        await push.close()
