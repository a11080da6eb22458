"""Runs every benchmark in turn (`make bench`); each also runs alone with
`python -m benchmarks.<name>`."""

from benchmarks import (
    bench_cache,
    bench_feed,
    bench_load,
    bench_plans,
    bench_queue,
    bench_social,
    bench_upload,
)

print("== feed pages (embedded store)")
bench_feed.main()

print("== a 12 MP photo upload, end to end against bare Pillow")
bench_upload.main()

print("== the embedded task queue")
bench_queue.main([])

print("== fan-out, home feed against profile page, round trips")
bench_social.main()

print("== mixed load on the real server, three windows and a read-only run")
bench_load.main([])

print("== a profile page without the cache, in memory and on Redis")
bench_cache.main()

print("== compiled plans against graphql-core's executor, in process")
bench_plans.main([])
