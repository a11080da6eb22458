"""Task handlers for the tests, and the app served with them for subprocess tests.

The handlers leave their marks through the store port: `Delivery` entities count
every time a handler starts (not idempotent, on purpose), `Effect` entities count
the work itself, done through `once_per_task`, so a duplicate delivery shows up as
a second Delivery but never as a second Effect.

    python -c "from tests.utils.tasks_app import main; main()" --port 8123

serves the real app, plus these handlers (imported, not run as __main__, so that
they register under this module's name).
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from app import create_app
from clock import Clock, system_clock
from settings import Settings, TaskSettings
from store.errors import TransactionConflict
from store.keys import Key
from store.port import Entity, Position, Query, Store, Transaction
from store.sqlite import SQLiteStore
from tasks.context import TaskContext
from tasks.embedded_queue import TaskRow, list_tasks
from tasks.enqueue import Tasks
from tasks.headers import EMBEDDED_SECRET
from tasks.registry import Payload, task_handler
from tasks.runlog import Run
from tasks.runtime import TaskRuntime
from tests.utils.once import once_per_task

EFFECT = "TestEffect"
DELIVERY = "TestDelivery"


async def _mark_delivery(ctx: TaskContext, key: str) -> None:
    sort = f"{key}.{secrets.token_hex(6)}"
    marker = Entity(
        Key.of(DELIVERY, sort),
        {
            "sort": sort,
            "key": key,
            "task": ctx.info.name,
            "retry_count": ctx.info.retry_count,
            "at": datetime.now(UTC),
        },
    )
    await ctx.store.put_many([marker])


async def _count_effect(ctx: TaskContext, key: str) -> None:
    async def write(tx: Transaction) -> None:
        (existing,) = await tx.get_many([Key.of(EFFECT, key)])
        count = 0 if existing is None else int(existing.properties["count"] or 0)  # type: ignore[arg-type]
        tx.put_many([Entity(Key.of(EFFECT, key), {"count": count + 1, "task": ctx.info.name})])

    await once_per_task(ctx, write)


@task_handler("test_effect")
async def effect(payload: Payload, ctx: TaskContext) -> None:
    """Counts once per task name; `seconds` makes it slow, `fail_times` flaky,
    `conflict_times` lose a transaction's race that often."""
    key = str(payload["key"])
    await _mark_delivery(ctx, key)
    await asyncio.sleep(float(payload.get("seconds", 0)))
    if ctx.info.retry_count < int(payload.get("fail_times", 0)):
        raise RuntimeError(f"failing on purpose, try {ctx.info.retry_count + 1}")
    if ctx.info.retry_count < int(payload.get("conflict_times", 0)):
        raise TransactionConflict(f"losing on purpose, try {ctx.info.retry_count + 1}")
    await _count_effect(ctx, key)


@task_handler("test_always_fails")
async def always_fails(payload: Payload, ctx: TaskContext) -> None:
    await _mark_delivery(ctx, str(payload.get("key", "fails")))
    raise ValueError("this handler always fails " + "x" * int(payload.get("pad", 0)))


@task_handler("test_noop")
async def noop(payload: Payload, ctx: TaskContext) -> None:
    return None


async def effect_count(store: Store, key: str) -> int:
    (entity,) = await store.get_many([Key.of(EFFECT, key)])
    return 0 if entity is None else int(entity.properties["count"])  # type: ignore[arg-type]


async def deliveries(store: Store, key: str) -> list[dict[str, Any]]:
    """Every start of a handler for `key`, in no particular order."""
    query = Query(DELIVERY, order_by="sort", descending=False)
    results = await store.page(
        query, limit=1000, after=Position(f"{key}."), before=Position(f"{key}/")
    )
    return [dict(result.entity.properties) for result in results]


def app_from_environment() -> Starlette:
    """For `uvicorn --factory tests.utils.tasks_app:app_from_environment`: the real
    app from the environment, with these handlers registered."""
    from settings import load_settings

    return create_app(load_settings())


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app_from_environment(), host="127.0.0.1", port=args.port, log_level="warning")


TEST_QUEUE_YAML = """
queue:
- name: default
  rate: 500/s
  bucket_size: 500
  max_concurrent_requests: 100
- name: retries
  rate: 500/s
  bucket_size: 100
  retry_parameters:
    task_retry_limit: 2
    min_backoff_seconds: 0.05
    max_backoff_seconds: 0.2
    max_doublings: 1
- name: paced
  rate: 20/s
  bucket_size: 1
- name: narrow
  rate: 500/s
  bucket_size: 100
  max_concurrent_requests: 2
- name: push
  rate: 500/s
  bucket_size: 500
"""


@dataclass
class TaskHarness:
    """The real app, running (lifespan entered), with an in-process HTTP client."""

    app: Starlette
    http: httpx.AsyncClient
    store: Store
    runtime: TaskRuntime

    @property
    def tasks(self) -> Tasks:
        return self.runtime.tasks

    @property
    def secret_headers(self) -> dict[str, str]:
        return {EMBEDDED_SECRET: self.runtime.dispatch_secret}

    async def task_rows(self, state: str | None = None) -> list[TaskRow]:
        assert self.runtime.db is not None
        return await self.runtime.db.read(lambda conn: list_tasks(conn, state, 10_000))

    async def runs(self, failed_only: bool = False) -> list[Run]:
        return await self.runtime.runs.recent(limit=500, failed_only=failed_only)


class ManualClock:
    """Seconds that pass only when a test says so."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@asynccontextmanager
async def running_app(
    tmp_path: Path,
    queue_yaml: str = TEST_QUEUE_YAML,
    *,
    clock: Callable[[], float] | None = None,
    rate_clock: Callable[[], float] | None = None,
    **task_settings: Any,
) -> AsyncIterator[TaskHarness]:
    """`clock`: the app's, in seconds since the epoch (the queue facade, the embedded
    queue and its workers all read it); `rate_clock`: the workers' token buckets."""
    (tmp_path / "queue.yaml").write_text(queue_yaml)
    settings = Settings(
        var_dir=tmp_path,
        sqlite_path=tmp_path / "timeline.db",
        secret_key=b"test-secret-" * 4,
        tasks=TaskSettings(queue_yaml=tmp_path / "queue.yaml", **task_settings),
    )
    store = SQLiteStore(settings.sqlite_path)
    app_clock = system_clock if clock is None else _from_epoch_seconds(clock)
    app = create_app(settings, store=store, clock=app_clock)
    workers = app.state.tasks.workers
    if rate_clock is not None:
        workers.rate_clock = rate_clock
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as http,
    ):
        yield TaskHarness(app, http, store, app.state.tasks)


def _from_epoch_seconds(seconds: Callable[[], float]) -> Clock:
    return lambda: datetime.fromtimestamp(seconds(), UTC)


async def eventually(
    check: Callable[[], Awaitable[bool]], within: float = 10.0, what: str = "condition"
) -> None:
    """Poll `check` until it holds; fail naming `what` after `within` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.02)
