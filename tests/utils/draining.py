"""Waiting for the embedded queue to drain, as a person waits for the app to catch up."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette

from tasks.embedded_queue import list_tasks
from tasks.outbox import Relays
from tasks.runtime import TaskRuntime


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
        if all(row.state == "done" for row in rows):
            return
        if asyncio.get_running_loop().time() > deadline:
            pending = [(r.handler, r.state, r.last_error) for r in rows if r.state != "done"]
            raise AssertionError(f"queue did not drain in {within}s: {pending[:5]}")
        await asyncio.sleep(0.02)
