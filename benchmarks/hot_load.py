"""The open load of benchmarks/bench_hot.py: mutations started at a fixed rate
whether earlier ones finished or not (as independent clients send them), a reader
alongside, and what one scenario saw (`Outcome`)."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Outcome:
    """One scenario's figures."""

    scenario: str
    sent: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    reads: int = 0
    read_errors: list[str] = field(default_factory=list)
    aborted: int = 0
    count_shown: int = -1
    count_expected: int = -2
    actors_notified: int = -1
    actors_expected: int = -2
    listed_ok: bool = True

    @property
    def achieved_rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    @property
    def holds(self) -> bool:
        return (
            not self.errors
            and not self.read_errors
            and self.count_shown == self.count_expected
            and self.actors_notified == self.actors_expected
            and self.listed_ok
        )

    def summary(self) -> dict[str, float]:
        return {
            f"{self.scenario}_sent": self.sent,
            f"{self.scenario}_client_errors": len(self.errors),
            f"{self.scenario}_read_errors": len(self.read_errors),
            f"{self.scenario}_reads": self.reads,
            f"{self.scenario}_aborted_calls": self.aborted,
            f"{self.scenario}_achieved_per_s": self.achieved_rate,
            f"{self.scenario}_p50_ms": statistics.median(self.latencies) * 1000
            if self.latencies
            else 0.0,
            f"{self.scenario}_p99_ms": self.percentile(0.99) * 1000,
            f"{self.scenario}_count_shown": self.count_shown,
            f"{self.scenario}_count_expected": self.count_expected,
            f"{self.scenario}_actors_notified": self.actors_notified,
            f"{self.scenario}_actors_expected": self.actors_expected,
        }


async def post(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any], headers: dict[str, str]
) -> tuple[dict[str, Any] | None, str | None]:
    """The body, or why the call failed as a client would see it."""
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    if response.status_code != 200:
        return None, f"HTTP {response.status_code}: {response.text[:200]}"
    body: dict[str, Any] = response.json()
    if body.get("errors"):
        codes = [e.get("extensions", {}).get("code") for e in body["errors"]]
        return body, f"errors {codes}"
    return body, None


async def _paced(
    rate: float, seconds: float, request: Callable[[int], Coroutine[Any, Any, None]]
) -> float:
    """Starts request(n) every 1/rate seconds whether earlier ones finished or not
    (open loop, as independent clients do); returns the time until all finished."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    running: list[asyncio.Task[None]] = []
    for n in range(round(rate * seconds)):
        await asyncio.sleep(max(0.0, start + n / rate - loop.time()))
        running.append(asyncio.create_task(request(n)))
    await asyncio.gather(*running)
    return loop.time() - start


async def _reader(
    stop: asyncio.Event, outcome: Outcome, read: Callable[[], Awaitable[str | None]]
) -> None:
    while not stop.is_set():
        failure = await read()
        outcome.reads += 1
        if failure:
            outcome.read_errors.append(failure)
        await asyncio.sleep(0.1)


async def load(
    http: httpx.AsyncClient,
    outcome: Outcome,
    *,
    rate: float,
    seconds: float,
    users: list[dict[str, str]],
    mutation: Callable[[int], tuple[str, dict[str, Any]]],
    read: Callable[[], Awaitable[str | None]],
) -> None:
    async def request(n: int) -> None:
        query, variables = mutation(n)
        started = time.perf_counter()
        body, failure = await post(http, query, variables, users[n % len(users)])
        outcome.latencies.append(time.perf_counter() - started)
        payload = next(iter(body["data"].values())) if body and body.get("data") else None
        if failure is None and payload and payload["errors"]:
            failure = f"user errors {payload['errors']}"
        if failure:
            outcome.errors.append(failure)

    stop = asyncio.Event()
    reader = asyncio.create_task(_reader(stop, outcome, read))
    outcome.sent = round(rate * seconds)
    outcome.elapsed = await _paced(rate, seconds, request)
    stop.set()
    await reader
