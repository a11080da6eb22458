"""Mixed load on the real server: does it hold, or stall and slow down over time?

    python -m benchmarks.bench_load [--window-seconds 30] [--clients 20] [--workers 1]

Starts the server as `make run` does (serve.py on 127.0.0.1, embedded store, a
fresh var dir), makes one user per client, each with a registered push device, a
full page of photos and follows of half the others (where the load's follow/unfollow
toggling keeps the graph), and lets the queue finish that follow-up
work, so that feeds and profiles are full pages from the first request (pages
that filled up during the run made the last window look slower than the first).
Then `clients` clients, each signed in as its own user, send requests back to
back: one window of reads only (home feed, profile pages), three consecutive
windows of reads and writes (like/unlike, comment, follow/unfollow,
updateCaption, createPhoto with a small image), and, once the queue has finished
the follow-up work (fan-out, notifications, pushes; given up to two windows; how
long it took is reported), one more window of reads only.

Per window: requests, errors, req/s, p50, p99, the longest pause with no reply
completed, and the server's CPU time per request. The machine may be shared: a
window in which other processes took the CPU shows fewer req/s at the same CPU
time per request, while a server that slows down needs more of it per request.
The read-only windows before and after the mixed ones compare the same reads on
the data as it was and as it grew. Loopback only; every request has a timeout,
so a run is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx

from benchmarks.load_clients import REQUEST_TIMEOUT, Client, Reply, gather, set_up
from benchmarks.load_server import LoadServer


def window_figures(
    replies: list[Reply], start: float, end: float, cpu_seconds: float | None = None
) -> dict[str, float]:
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
        "cpu_ms": (
            cpu_seconds * 1000 / len(inside) if cpu_seconds is not None and inside else math.nan
        ),
    }


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]


@dataclass
class Run:
    """One load run: its replies, its windows' bounds, and the server's CPU time
    (seconds used so far) read at each bound."""

    replies: list[Reply]
    bounds: list[float]
    cpu: list[float | None]

    def window(self, n: int) -> dict[str, float]:
        used = self.cpu[n + 1], self.cpu[n]
        cpu = used[0] - used[1] if used[0] is not None and used[1] is not None else None
        return window_figures(self.replies, self.bounds[n], self.bounds[n + 1], cpu)

    def whole(self) -> dict[str, float]:
        first, last = self.cpu[0], self.cpu[-1]
        cpu = last - first if first is not None and last is not None else None
        return window_figures(self.replies, self.bounds[0], self.bounds[-1], cpu)


async def _load(
    server: LoadServer,
    clients: list[Client],
    seconds: float,
    *,
    windows: int = 1,
    reads_only: bool,
) -> Run:
    for client in clients:
        client.replies = []
    start = time.perf_counter()
    bounds = [start + n * seconds for n in range(windows + 1)]

    async def read_cpu() -> list[float | None]:
        cpu = []
        for bound in bounds:
            await asyncio.sleep(max(0.0, bound - time.perf_counter()))
            cpu.append(server.cpu_seconds())
        return cpu

    cpu = asyncio.create_task(read_cpu())
    await gather(client.run(bounds[-1], reads_only=reads_only) for client in clients)
    return Run([reply for client in clients for reply in client.replies], bounds, await cpu)


async def run(
    *, window_seconds: float = 30.0, clients: int = 20, windows: int = 3, workers: int = 1
) -> dict[str, Any]:
    with LoadServer(workers) as server:
        limits = httpx.Limits(max_connections=clients + 4)
        async with httpx.AsyncClient(
            base_url=server.url, timeout=REQUEST_TIMEOUT, limits=limits
        ) as http:
            loaders = await set_up(http, server.var, clients)
            # The measured runs start on a server whose set-up work is done.
            await server.wait_for_idle_queue(within=window_seconds * 2)
            before = await _load(server, loaders, window_seconds, reads_only=True)
            mixed = await _load(server, loaders, window_seconds, windows=windows, reads_only=False)
            # The reads compare against a server whose follow-up work is done.
            drained_after = await server.wait_for_idle_queue(within=window_seconds * 2)
            after = await _load(server, loaders, window_seconds, reads_only=True)
        server_errors = server.error_lines()
        retried = server.retried_task_lines()
    reads = [*before.replies, *after.replies]
    results: dict[str, Any] = {
        "read_only_before": before.whole(),
        "windows": [mixed.window(n) for n in range(windows)],
        "read_only": after.whole(),
        "mixed": mixed.whole(),
        # Every reply, also those that came after the last window had closed.
        "replies": {"mixed": len(mixed.replies), "read_only": len(reads)},
        "ok_by_kind": Counter(r.kind for r in mixed.replies if r.ok),
        "latency_by_kind": latency_by_kind(mixed.replies),
        "errors_by_kind": Counter(r.kind for r in mixed.replies if not r.ok),
        "errors_by_code": Counter(r.error for r in [*mixed.replies, *reads] if r.error),
        "server_error_lines": server_errors,
        "retried_task_lines": retried,
        "queue_drained_after_seconds": drained_after,
    }
    first, last = results["windows"][0], results["windows"][-1]
    results["last_over_first_rps"] = _ratio(last["rps"], first["rps"])
    results["last_over_first_cpu"] = _ratio(last["cpu_ms"], first["cpu_ms"])
    mixed_all = results["mixed"]
    results["p99_over_p50"] = _ratio(mixed_all["p99"], mixed_all["p50"])
    results["mixed_over_read_only_rps"] = _ratio(mixed_all["rps"], results["read_only"]["rps"])
    reads_before, reads_after = results["read_only_before"], results["read_only"]
    results["reads_after_over_before_rps"] = _ratio(reads_after["rps"], reads_before["rps"])
    results["reads_after_over_before_cpu"] = _ratio(reads_after["cpu_ms"], reads_before["cpu_ms"])
    return results


def latency_by_kind(replies: list[Reply]) -> dict[str, tuple[float, float, float]]:
    """Each kind's p50, p90 and p99 (seconds): which requests make the tail."""
    kinds: dict[str, list[float]] = {}
    for reply in replies:
        kinds.setdefault(reply.kind, []).append(reply.seconds)
    tails = {kind: sorted(times) for kind, times in sorted(kinds.items())}
    return {
        kind: (_quantile(times, 0.50), _quantile(times, 0.90), _quantile(times, 0.99))
        for kind, times in tails.items()
    }


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def report(results: dict[str, Any]) -> None:
    header = ("requests", 9), ("errors", 8), ("req/s", 9), ("p50 ms", 9), ("p99 ms", 10)
    print(
        f"{'window':<14}"
        + "".join(f"{name:>{width}}" for name, width in header)
        + "  pause s  cpu ms/req"
    )
    rows = [("read-only 1st", results["read_only_before"])]
    rows += [(f"mixed {n + 1}", w) for n, w in enumerate(results["windows"])]
    rows += [("mixed all", results["mixed"]), ("read-only", results["read_only"])]
    for name, w in rows:
        print(
            f"{name:<14}{w['requests']:>9}{w['errors']:>8}{w['rps']:>9.1f}"
            f"{w['p50'] * 1000:>9.0f}{w['p99'] * 1000:>10.0f}{w['longest_pause']:>9.2f}"
            f"{w['cpu_ms']:>12.1f}"
        )
    print(
        f"window 3 / window 1 req/s: {results['last_over_first_rps']:.2f}   (target >= 0.9)"
        f"   cpu per request: {results['last_over_first_cpu']:.2f}"
    )
    print(f"p99 / p50 (mixed):         {results['p99_over_p50']:.1f}   (target <= 5)")
    print(f"mixed / read-only req/s:   {results['mixed_over_read_only_rps']:.2f}   (target >= 0.5)")
    print(
        f"read-only after / before:  {results['reads_after_over_before_rps']:.2f} req/s"
        f"   {results['reads_after_over_before_cpu']:.2f} cpu per request"
    )
    drained = results["queue_drained_after_seconds"]
    print(
        f"background tasks drained {drained:.1f} s after the mixed load"
        if drained is not None
        else "background tasks still due when the read-only run began"
    )
    print(
        "mixed p50 / p90 / p99 ms by kind: "
        + ", ".join(
            f"{kind} {p50 * 1000:.0f} / {p90 * 1000:.0f} / {p99 * 1000:.0f}"
            for kind, (p50, p90, p99) in results["latency_by_kind"].items()
        )
    )
    print(f"errors by kind: {dict(results['errors_by_kind'])}")
    print(f"errors by code: {dict(results['errors_by_code'])}")
    print(f"background runs retried after a lost race: {len(results['retried_task_lines'])}")
    print(f"server error lines logged: {len(results['server_error_lines'])}")
    for line in results["server_error_lines"][:5]:
        print(f"  {line[:200]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="mixed load on the real server")
    parser.add_argument("--window-seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1, help="server processes (serve.py)")
    args = parser.parse_args(argv)
    report(
        asyncio.run(
            run(window_seconds=args.window_seconds, clients=args.clients, workers=args.workers)
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
