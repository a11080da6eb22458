"""The upload benchmark still runs; its numbers go to docs/PERFORMANCE.md, not here."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import bench_image_memory, bench_upload
from tests.utils import images


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "photo.jpg"
    path.write_bytes(images.camera_jpeg(800, 600))
    return path


async def test_the_upload_benchmark_times_both_sides(photo: Path) -> None:
    results = await bench_upload.time_both(photo, rounds=1)
    assert results["bare_s"] > 0
    assert results["end_to_end_s"] > 0


def test_memory_is_measured_per_side(photo: Path) -> None:
    for side in ("bare", "end_to_end"):
        measured = bench_upload.measure_memory(side, str(photo))
        assert measured["rss_growth_mb"] >= 0
        assert 0 < measured["python_heap_peak_mb"] < 50


def test_the_image_memory_benchmark_counts_outcomes() -> None:
    figures = bench_image_memory.measure(side=800, concurrent=3, budget_mb=None)
    assert figures["outcomes"] == {"ok": 3}
    assert figures["rss_growth_mb"] >= 0
