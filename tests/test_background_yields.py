"""While clients wait for answers, the embedded workers run few deliveries at once
(taskqueue/embedded/foreground.py), and the queue's whole concurrency comes back
once no request came for a while, or once the backlog nears its limit. Counted
in deliveries at once, never in milliseconds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from taskqueue.context import TaskContext
from taskqueue.embedded.foreground import (
    DELIVERIES_WHILE_CLIENTS_WAIT,
    QUIET_SECONDS,
    Foreground,
)
from taskqueue.registry import Payload, task_handler
from tests.utils.tasks_app import TaskHarness, eventually, running_app

TASKS = 3 * DELIVERIES_WHILE_CLIENTS_WAIT  # the default queue would run them all at once
running = {"now": 0, "most": 0}
gates: list[asyncio.Event] = []  # the test's: handlers wait on it


@task_handler("test_held_open")
async def held_open(payload: Payload, ctx: TaskContext) -> None:
    running["now"] += 1
    running["most"] = max(running["most"], running["now"])
    try:
        await gates[-1].wait()
    finally:
        running["now"] -= 1


class SlowRequest:
    """A client's POST whose body arrives only when `finish` is called: a request
    in flight for as long as the test likes."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._rest = asyncio.Event()
        self.answer = asyncio.create_task(
            http.post(
                "/graphql", content=self._body(), headers={"content-type": "application/json"}
            )
        )

    async def _body(self) -> AsyncIterator[bytes]:
        yield b'{"query": '
        await self._rest.wait()
        yield b'"{ __typename }"}'

    async def finish(self) -> None:
        self._rest.set()
        assert (await self.answer).status_code == 200


async def _held_deliveries(harness: TaskHarness) -> None:
    running.update(now=0, most=0)
    gates.append(asyncio.Event())
    for n in range(TASKS):
        await harness.tasks.enqueue("test_held_open", {}, name=f"held-{n}")


async def _all_running() -> bool:
    return running["now"] == TASKS


async def _some_running() -> bool:
    return running["now"] >= DELIVERIES_WHILE_CLIENTS_WAIT


async def _settled() -> None:
    """Time for deliveries beyond the bound to have started, had they been let."""
    await asyncio.sleep(0.3)


async def test_deliveries_wait_while_a_client_request_is_in_flight(tmp_path: Path) -> None:
    async with running_app(tmp_path, cron_scheduler=False) as harness:
        workers = harness.runtime.workers
        assert workers is not None
        request = SlowRequest(harness.http)
        await eventually(_in_flight(workers.foreground), what="the request to be counted")
        await _held_deliveries(harness)
        await eventually(_some_running, what="the first deliveries")
        await _settled()
        assert running["most"] == DELIVERIES_WHILE_CLIENTS_WAIT
        await request.finish()
        # The deliveries themselves are no clients: with none left, all run at once.
        await eventually(_all_running, what="every delivery once no client waits")
        gates[-1].set()


async def test_a_backlog_near_its_limit_gets_the_whole_concurrency_back(
    tmp_path: Path,
) -> None:
    async with running_app(tmp_path, cron_scheduler=False) as harness:
        workers = harness.runtime.workers
        assert workers is not None
        workers.backlog.limit = TASKS  # the tasks left after the first claim are half of it
        request = SlowRequest(harness.http)
        await eventually(_in_flight(workers.foreground), what="the request to be counted")
        await _held_deliveries(harness)
        await eventually(_all_running, what="every delivery while the client waits")
        assert workers.foreground.requests == 1
        gates[-1].set()
        await request.finish()


def _in_flight(foreground: Foreground) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return foreground.requests == 1

    return check


@pytest.fixture(autouse=True)
def _open_gates() -> None:
    gates.clear()


def test_the_gaps_between_a_loads_requests_still_hold_deliveries_back() -> None:
    now = [100.0]
    foreground = Foreground(clock=lambda: now[0])
    assert foreground.deliveries(100, backlog_high=False) == 100
    foreground.started()
    foreground.finished()  # none in flight now, as between two requests of a load
    now[0] += QUIET_SECONDS / 2
    assert foreground.deliveries(100, backlog_high=False) == DELIVERIES_WHILE_CLIENTS_WAIT
    assert foreground.deliveries(100, backlog_high=True) == 100
    now[0] += QUIET_SECONDS
    assert foreground.deliveries(100, backlog_high=False) == 100
