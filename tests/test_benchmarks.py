"""The benchmarks still run, and the counts they report hold (no timings asserted)."""

from __future__ import annotations

import pytest

from benchmarks import bench_feed


async def test_feed_benchmark_runs_and_pages_cost_two_round_trips() -> None:
    results = await bench_feed.run(seconds=0.05, rounds=1, deep_page=3)
    assert results["graphql_rps"] > 0
    assert results["ceiling_rps"] > 0
    for size in (10, 20, 50):
        assert results[f"round_trips_page_{size}"] == 2
    assert results["page_3_over_page_1"] > 0


async def test_social_benchmark_runs_and_a_home_page_costs_three_round_trips() -> None:
    from benchmarks import bench_social

    results = await bench_social.run(followers=300, rounds=1)
    assert results["fanout_items_per_s"] > 0
    for size in (10, 20, 50):
        assert results[f"round_trips_home_page_{size}"] == 3


@pytest.mark.slow  # a server in a subprocess
async def test_load_benchmark_runs_its_windows_against_a_real_server() -> None:
    from benchmarks import bench_load, load_clients

    results = await bench_load.run(window_seconds=1.0, clients=3)
    assert [window["requests"] > 0 for window in results["windows"]] == [True] * 3
    assert results["read_only"]["requests"] > 0
    assert results["ok_by_kind"]["home"] + results["ok_by_kind"]["profile"] > 0
    writes = set(load_clients.MIX) - {"home", "profile"}
    assert sum(results["ok_by_kind"][kind] for kind in writes) > 0
    assert results["last_over_first_rps"] > 0
