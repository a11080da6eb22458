"""Mixed load on the real server: does it hold, or stall and slow down over time?

    python -m benchmarks.bench_load [--window-seconds 30] [--clients 20]

Starts the server as `make run` does (serve.py on 127.0.0.1, embedded store, a
fresh var dir), makes one user per client, each with a registered push device, a
photo and a few follows. Then `clients` clients, each signed in as its own user,
send requests back to back for three consecutive windows: reads (home feed,
profile pages) and writes (like/unlike, comment, follow/unfollow, updateCaption,
createPhoto with a small image). Then the same clients do reads only, for one
window, for comparison. Per window: requests, errors, req/s, p50, p99 and the
longest pause with no reply completed; then the ratios the targets are set on.
Between the mixed and the read-only run, the queue is given up to two windows to
finish the follow-up work (fan-out, notifications, pushes); how long it took is
reported too. Loopback only; every request has a timeout, so a run is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
from collections import Counter
from typing import Any

import httpx

from benchmarks.load_clients import REQUEST_TIMEOUT, Client, Reply, gather, set_up
from benchmarks.load_server import LoadServer


def window_figures(replies: list[Reply], start: float, end: float) -> dict[str, float]:
    inside = sorted((r for r in replies if start <= r.finished < end), key=lambda r: r.finished)
    latencies = sorted(r.seconds for r in inside)
    moments = [start, *(r.finished for r in inside), end]
    return {
        "requests": len(inside),
        "errors": sum(not r.ok for r in inside),
        "rps": len(inside) / (end - start),
        "p50": _quantile(latencies, 0.50),
        "p99": _quantile(latencies, 0.99),
        "longest_pause": max(b - a for a, b in itertools.pairwise(moments)),
    }


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]


async def _load(clients: list[Client], seconds: float, *, reads_only: bool) -> tuple[float, float]:
    start = time.perf_counter()
    await gather(client.run(start + seconds, reads_only=reads_only) for client in clients)
    return start, start + seconds


async def run(
    *, window_seconds: float = 30.0, clients: int = 20, windows: int = 3
) -> dict[str, Any]:
    with LoadServer() as server:
        limits = httpx.Limits(max_connections=clients + 4)
        async with httpx.AsyncClient(
            base_url=server.url, timeout=REQUEST_TIMEOUT, limits=limits
        ) as http:
            loaders = await set_up(http, server.var, clients)
            start, _ = await _load(loaders, window_seconds * windows, reads_only=False)
            mixed = [reply for client in loaders for reply in client.replies]
            for client in loaders:
                client.replies = []
            # The reads compare against a server whose follow-up work is done.
            drained_after = await server.wait_for_idle_queue(within=window_seconds * 2)
            read_start, read_end = await _load(loaders, window_seconds, reads_only=True)
            reads = [reply for client in loaders for reply in client.replies]
        server_errors = server.error_lines()
    bounds = [
        (start + n * window_seconds, start + (n + 1) * window_seconds) for n in range(windows)
    ]
    results: dict[str, Any] = {
        "windows": [window_figures(mixed, a, b) for a, b in bounds],
        "read_only": window_figures(reads, read_start, read_end),
        "mixed": window_figures(mixed, bounds[0][0], bounds[-1][1]),
        # Every reply, also those that came after the last window had closed.
        "replies": {"mixed": len(mixed), "read_only": len(reads)},
        "ok_by_kind": Counter(r.kind for r in mixed if r.ok),
        "errors_by_kind": Counter(r.kind for r in mixed if not r.ok),
        "errors_by_code": Counter(r.error for r in [*mixed, *reads] if r.error),
        "server_error_lines": server_errors,
        "queue_drained_after_seconds": drained_after,
    }
    first, last = results["windows"][0], results["windows"][-1]
    results["last_over_first_rps"] = last["rps"] / first["rps"] if first["rps"] else float("nan")
    mixed_all = results["mixed"]
    results["p99_over_p50"] = (
        mixed_all["p99"] / mixed_all["p50"] if mixed_all["p50"] else float("nan")
    )
    read_rps = results["read_only"]["rps"]
    results["mixed_over_read_only_rps"] = mixed_all["rps"] / read_rps if read_rps else float("nan")
    return results


def report(results: dict[str, Any]) -> None:
    header = ("requests", 9), ("errors", 8), ("req/s", 9), ("p50 ms", 9), ("p99 ms", 10)
    print(f"{'window':<11}" + "".join(f"{name:>{width}}" for name, width in header) + "  pause s")
    rows = [(f"mixed {n + 1}", w) for n, w in enumerate(results["windows"])]
    rows += [("mixed all", results["mixed"]), ("read-only", results["read_only"])]
    for name, w in rows:
        print(
            f"{name:<11}{w['requests']:>9}{w['errors']:>8}{w['rps']:>9.1f}"
            f"{w['p50'] * 1000:>9.0f}{w['p99'] * 1000:>10.0f}{w['longest_pause']:>9.2f}"
        )
    print(f"window 3 / window 1 req/s: {results['last_over_first_rps']:.2f}   (target >= 0.9)")
    print(f"p99 / p50 (mixed):         {results['p99_over_p50']:.1f}   (target <= 5)")
    print(f"mixed / read-only req/s:   {results['mixed_over_read_only_rps']:.2f}   (target >= 0.5)")
    drained = results["queue_drained_after_seconds"]
    print(
        f"background tasks drained {drained:.1f} s after the mixed load"
        if drained is not None
        else "background tasks still due when the read-only run began"
    )
    print(f"errors by kind: {dict(results['errors_by_kind'])}")
    print(f"errors by code: {dict(results['errors_by_code'])}")
    print(f"server error lines logged: {len(results['server_error_lines'])}")
    for line in results["server_error_lines"][:5]:
        print(f"  {line[:200]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="mixed load on the real server")
    parser.add_argument("--window-seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args(argv)
    report(asyncio.run(run(window_seconds=args.window_seconds, clients=args.clients)))


if __name__ == "__main__":
    main(sys.argv[1:])
