"""Timing helpers: interleaved rounds, so both sides of a ratio share the noise."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

Request = Callable[[], Awaitable[None]]


async def requests_per_second(request: Request, *, seconds: float, concurrency: int) -> float:
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await request()
            done += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.perf_counter() - start)


async def interleaved_throughput(
    sides: dict[str, Request], *, rounds: int, seconds: float, concurrency: int
) -> dict[str, float]:
    """Median req/s of each side over `rounds` alternating runs."""
    samples: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, request in sides.items():
            samples[name].append(
                await requests_per_second(request, seconds=seconds, concurrency=concurrency)
            )
    return {name: statistics.median(values) for name, values in samples.items()}


async def median_latency(request: Request, *, repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        await request()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)
