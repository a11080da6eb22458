"""The benchmarks still run, and the counts they report hold (no timings asserted)."""

from __future__ import annotations

from benchmarks import bench_feed


async def test_feed_benchmark_runs_and_pages_cost_two_round_trips() -> None:
    results = await bench_feed.run(seconds=0.05, rounds=1, deep_page=3)
    assert results["graphql_rps"] > 0
    assert results["ceiling_rps"] > 0
    for size in (10, 20, 50):
        assert results[f"round_trips_page_{size}"] == 2
    assert results["page_3_over_page_1"] > 0
