"""Waiting for the embedded queue to drain, as a person waits for the app to catch up,
but without waiting out the time in which nothing is due.

A batched task falls due a bucket's end plus a grace after the action
(tasks/batching.py), a retried one after its backoff. The apps that tests build
(tests/utils/clients.py) run on a `SkippingClock`: the wall clock, which `drain`
moves forward to the next task's eta once nothing is running and nothing is due,
as if the test had slept until then. The task still runs after every action the
test made before draining, as it would in production."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
from starlette.applications import Starlette

from taskqueue.embedded.queue import TaskRow, list_tasks
from tasks.outbox import Relays
from tasks.runtime import TaskRuntime


class SkippingClock:
    """The wall clock, ahead by the waits that `drain` skipped; never goes back."""

    def __init__(self) -> None:
        self._ahead = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self._ahead

    def skip_to(self, epoch_seconds: float) -> None:
        gap = epoch_seconds - self().timestamp()
        if gap > 0:
            self._ahead += timedelta(seconds=gap)


class StoppedClock(SkippingClock):
    """One instant, ahead by what `drain` skips: a test's actions all fall in one
    time bucket (tasks/batching.py), and its batched tasks wait for `drain`."""

    def __init__(self) -> None:
        super().__init__()
        self._at = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self._at + (super().__call__() - datetime.now(UTC))


def app_of(http: httpx.AsyncClient) -> Starlette:
    transport = http._transport
    assert isinstance(transport, httpx.ASGITransport)
    app = transport.app
    assert isinstance(app, Starlette)
    return app


async def settle_relays(http: httpx.AsyncClient) -> None:
    """Until the mutations answered so far have relayed their follow-ups to the queue
    (they do after their answers: tasks/outbox.py `Relays`)."""
    relays: Relays = app_of(http).state.relays
    await relays.settle()


async def drain(http: httpx.AsyncClient, within: float = 30.0) -> None:
    """Until no task is queued or running; a task that failed for good fails the test."""
    await settle_relays(http)
    runtime: TaskRuntime = app_of(http).state.tasks
    assert runtime.db is not None, "the embedded queue is not running"
    db = runtime.db
    deadline = asyncio.get_running_loop().time() + within
    while True:
        rows = await db.read(lambda conn: list_tasks(conn, None, 100_000))
        failed = [row for row in rows if row.state == "failed"]
        assert not failed, f"tasks failed: {failed}"
        waiting = [row for row in rows if row.state != "done"]
        if not waiting:
            return
        if asyncio.get_running_loop().time() > deadline:
            pending = [(r.handler, r.state, r.last_error) for r in waiting]
            raise AssertionError(f"queue did not drain in {within}s: {pending[:5]}")
        _skip_to_the_next_eta(runtime, waiting)
        await asyncio.sleep(0.02)


def _skip_to_the_next_eta(runtime: TaskRuntime, waiting: list[TaskRow]) -> None:
    """Only while every unfinished task waits for its eta: a running one may still
    enqueue work due sooner, or hold a lease that skipped time would expire."""
    if not isinstance(runtime.clock, SkippingClock) or runtime.workers is None:
        return
    if any(row.state != "queued" for row in waiting):
        return
    runtime.clock.skip_to(min(row.eta for row in waiting))
    for queue in {row.queue for row in waiting}:
        runtime.workers.wake(queue)
