"""The queue benchmark still runs end to end (its numbers are not asserted)."""

from __future__ import annotations

from benchmarks import bench_queue


async def test_the_queue_benchmark_runs() -> None:
    results = await bench_queue.run(tasks=50, limited_tasks=20, latency_samples=5)
    assert results.capacity_per_second > 0
    assert results.limited_per_second > 0
    assert 0 < results.latency_p50_ms <= results.latency_p99_ms
