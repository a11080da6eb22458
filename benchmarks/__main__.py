"""Runs every benchmark in turn."""

from benchmarks import bench_feed

print("== feed pages (embedded store)")
bench_feed.main()
