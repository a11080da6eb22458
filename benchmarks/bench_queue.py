"""The embedded task queue: throughput of no-op tasks and dispatch latency.

    python -m benchmarks.bench_queue [--tasks 5000] [--latency-samples 300]

Every task goes the whole way: a row in the SQLite file, claimed under a lease,
posted through the real app's ASGI stack to the guarded `/_internal/tasks/<name>`
route with the dispatcher secret, its run logged, its row finished. In process and
loopback-free (ASGI), bounded in time by the task counts.

- capacity: the queue's rate limit lifted (the engine's own ceiling);
- at 500/s: a queue at App Engine's highest rate (queue.yaml allows no more) with a
  full bucket of 500, to show the engine keeps up with the limiter;
- latency: one task at a time on an idle queue, enqueue to handler start.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from app import create_app
from settings import Settings
from store.sqlite import SQLiteStore
from taskqueue.config import QueueConfig
from taskqueue.context import TaskContext
from taskqueue.embedded.queue import EmbeddedQueue
from taskqueue.embedded.workers import EmbeddedWorkers
from taskqueue.port import TaskRequest
from taskqueue.registry import Payload, task_handler
from tasks.runtime import TaskRuntime

QUEUE = "bench"
started_at: dict[int, float] = {}
arrivals: dict[int, asyncio.Event] = {}


@task_handler("bench_noop")
async def bench_noop(payload: Payload, ctx: TaskContext) -> None:
    i = int(payload["i"])
    started_at[i] = time.perf_counter()
    if i in arrivals:
        arrivals[i].set()


@dataclass(frozen=True)
class Results:
    capacity_per_second: float
    limited_per_second: float
    latency_p50_ms: float
    latency_p99_ms: float
    tasks: int


async def _drained(queue: EmbeddedQueue, runtime: TaskRuntime) -> None:
    assert runtime.db is not None
    while True:
        left = await runtime.db.read(
            lambda conn: conn.execute(
                "SELECT COUNT(*) FROM task_queue WHERE queue = ?", (QUEUE,)
            ).fetchone()[0]
        )
        if left == 0:
            return
        await asyncio.sleep(0.005)


async def _throughput(runtime: TaskRuntime, app: object, config: QueueConfig, count: int) -> float:
    """Load `count` tasks, then time the workers from start until every row is finished."""
    assert runtime.db is not None
    workers = EmbeddedWorkers(
        runtime.db, {QUEUE: config}, secret=runtime.dispatch_secret, runs=runtime.runs
    )
    queue = EmbeddedQueue(runtime.db, wake=workers.wake)
    for i in range(count):
        await queue.add(TaskRequest("bench_noop", f'{{"i":{i}}}'.encode(), queue=QUEUE))
    started = time.perf_counter()
    await workers.start(app)  # type: ignore[arg-type]
    await _drained(queue, runtime)
    elapsed = time.perf_counter() - started
    await workers.stop()
    return count / elapsed


async def _latency(runtime: TaskRuntime, app: object, samples: int) -> list[float]:
    assert runtime.db is not None
    config = QueueConfig(QUEUE, rate_per_second=500, bucket_size=500, max_concurrent_requests=100)
    workers = EmbeddedWorkers(
        runtime.db, {QUEUE: config}, secret=runtime.dispatch_secret, runs=runtime.runs
    )
    queue = EmbeddedQueue(runtime.db, wake=workers.wake)
    await workers.start(app)  # type: ignore[arg-type]
    latencies = []
    base = 10_000_000
    for n in range(samples):
        i = base + n
        arrived = arrivals[i] = asyncio.Event()
        enqueued = time.perf_counter()
        await queue.add(TaskRequest("bench_noop", f'{{"i":{i}}}'.encode(), queue=QUEUE))
        async with asyncio.timeout(10):
            await arrived.wait()
        del arrivals[i]
        latencies.append((started_at[i] - enqueued) * 1000)
        await asyncio.sleep(0.002)
    await workers.stop()
    return latencies


async def run(tasks: int = 5000, limited_tasks: int = 2000, latency_samples: int = 300) -> Results:
    started_at.clear()
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp)
        settings = Settings(var_dir=var, sqlite_path=var / "timeline.db", secret_key=b"b" * 48)
        app = create_app(settings, store=SQLiteStore(settings.sqlite_path))
        runtime: TaskRuntime = app.state.tasks
        async with app.router.lifespan_context(app):
            unlimited = QueueConfig(QUEUE, 1e9, 1_000_000, max_concurrent_requests=100)
            capacity = await _throughput(runtime, app, unlimited, tasks)
            at_limit = QueueConfig(QUEUE, 500, 500, max_concurrent_requests=100)
            limited = await _throughput(runtime, app, at_limit, limited_tasks)
            latencies = await _latency(runtime, app, latency_samples)
    quantiles = statistics.quantiles(latencies, n=100)
    return Results(capacity, limited, quantiles[49], quantiles[98], tasks)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="embedded task queue benchmark")
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--limited-tasks", type=int, default=2000)
    parser.add_argument("--latency-samples", type=int, default=300)
    args = parser.parse_args(argv)
    results = asyncio.run(run(args.tasks, args.limited_tasks, args.latency_samples))
    rows = [
        ("throughput, rate limit lifted", f"{results.capacity_per_second:,.0f} tasks/s"),
        ("throughput, queue at 500/s", f"{results.limited_per_second:,.0f} tasks/s"),
        ("dispatch latency p50", f"{results.latency_p50_ms:.2f} ms"),
        ("dispatch latency p99", f"{results.latency_p99_ms:.2f} ms"),
    ]
    print(f"embedded queue, {results.tasks} no-op tasks through /_internal/tasks/ (target ≥ 500/s)")
    for name, value in rows:
        print(f"  {name:32} {value:>16}")


if __name__ == "__main__":
    main()
