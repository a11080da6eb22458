"""Runs every benchmark in turn."""

from benchmarks import bench_feed, bench_upload

print("== feed pages (embedded store)")
bench_feed.main()

print("== a 12 MP photo upload, end to end against bare Pillow")
bench_upload.main()
