"""GraphQL over real HTTP against what the same machine does without it.

    python -m benchmarks.bench_http [--seconds 4] [--rounds 3] [--concurrency 8] [--workers 1]

Every side is a uvicorn process on 127.0.0.1, loaded in turn by benchmarks/http_load.py
(keep-alive connections, `concurrency` of them), in `rounds` alternating rounds:

    (a) the real server (serve.py): a user's page of 20 photos with owners
    (c) the same server: a signed-in home feed page of 20 (counts, viewerHasLiked, owners)
    (d) a plain Starlette route that reads (a)'s page from the same store (a copy of
        the file: the embedded store admits one process) and writes the same JSON
    (e) a Starlette route returning a constant body of (a)'s size
    (f) plain Strawberry with a DataLoader, (a)'s shape, data in memory

It prints, per side, the medians of req/s, the server's CPU ms per request (its
processes' utime + stime from /proc), p50 and p99, then the ratios, and the load
average. Before loading, every side's answer is checked: (d)'s page is (a)'s, field
for field. `--workers` runs (d), (e) and (f) in that many processes; the real
server's count comes from serve.py (one on the embedded store).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from auth.dev_tokens import key_path_in, mint_dev_token
from benchmarks import bench_social
from benchmarks.http_load import HttpRequest, LoadFigures, fetch, generate
from benchmarks.http_sides import PAGE, SECRET, USER, USER_ID, USER_PAGE
from store import models
from store.port import MAX_BATCH
from store.sqlite import SQLiteStore
from tests.utils.processes import ManagedServer, free_port

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = 2_000
HOME_FIELDS = "id caption width height likeCount commentCount viewerHasLiked owner { username }"
HOME = f"""query($n: Int) {{ viewer {{ feed(first: $n) {{
  edges {{ cursor node {{ {HOME_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }} }}"""
SIDES = ("a", "c", "d", "e", "f")
RATIOS = (("a", "d"), ("a", "f"), ("a", "e"), ("c", "a"), ("d", "e"))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Side:
    name: str
    request: HttpRequest
    server: ManagedServer


async def seed(path: Path) -> None:
    """(a)'s user with PHOTOS photos, and (c)'s reader who follows 10 users."""
    store = SQLiteStore(path)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    user = models.User(USER, "bench", "Bench Mark", start)
    entities = [models.user_to_entity(user), models.username_claim(user)]
    entities += [
        models.photo_to_entity(
            models.Photo(
                USER, f"p{n:06d}", f"caption {n}", start + timedelta(seconds=n), 1080, 1440
            )
        )
        for n in range(PHOTOS)
    ]
    for first in range(0, len(entities), MAX_BATCH):
        await store.put_many(entities[first : first + MAX_BATCH])
    await bench_social.seed_reader(store)
    await store.close()


def copy_database(source: Path, target: Path) -> None:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def server_cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its descendants (uvicorn's workers)."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue  # gone in between
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
        pending += [int(child) for child in children]
    return total / CLOCK_TICKS


@contextmanager
def servers(tmp: Path, workers: int) -> Iterator[dict[str, Side]]:
    """Starts every side's server; stops them all on the way out."""
    var = tmp / "var"
    asyncio.run(seed(var / "timeline.db"))
    copy_database(var / "timeline.db", tmp / "plain.db")
    token = mint_dev_token(key_path_in(var), bench_social._user("reader").id)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BENCH_HTTP_DB": str(tmp / "plain.db")}
    for name in ("GAE_ENV", "TIMELINE_STORE", "TIMELINE_TASKS", "TIMELINE_DEMO_DATA"):
        env.pop(name, None)
    with ExitStack() as stack:

        def start(argv: list[str], port: int, extra: dict[str, str], log: str) -> ManagedServer:
            url = f"http://127.0.0.1:{port}/healthz"
            server = ManagedServer(argv, url, tmp / log, {**env, **extra}, cwd=ROOT)
            server.start()
            stack.callback(server.stop)
            return server

        def reference(factory: str, log: str) -> tuple[ManagedServer, str]:
            port = free_port()
            argv = [sys.executable, "-m", "uvicorn", f"benchmarks.http_sides:{factory}"]
            argv += ["--factory", "--host", "127.0.0.1", "--port", str(port)]
            argv += ["--no-access-log", "--log-level", "warning", "--workers", str(workers)]
            return start(argv, port, {}, log), f"http://127.0.0.1:{port}"

        port = free_port()
        app_env = {
            "TIMELINE_ENV": "local",
            "TIMELINE_VAR_DIR": str(var),
            "TIMELINE_SECRET_KEY": SECRET.decode(),
        }
        argv = [sys.executable, "-m", "serve", "--host", "127.0.0.1", "--port", str(port)]
        app = start(argv, port, app_env, "app.log")
        graphql = f"http://127.0.0.1:{port}/graphql"
        page = HttpRequest.graphql(graphql, USER_PAGE, {"id": USER_ID, "n": PAGE})
        home = HttpRequest.graphql(graphql, HOME, {"n": PAGE}, {"authorization": f"Bearer {token}"})
        _, body = asyncio.run(fetch(page))
        (tmp / "body.json").write_bytes(body)
        env["BENCH_HTTP_BODY"] = str(tmp / "body.json")
        plain, plain_url = reference("plain_page_app", "plain.log")
        constant, constant_url = reference("constant_app", "constant.log")
        strawberry, strawberry_url = reference("strawberry_app", "strawberry.log")
        yield {
            "a": Side("a", page, app),
            "c": Side("c", home, app),
            "d": Side("d", HttpRequest(f"{plain_url}/page"), plain),
            "e": Side("e", HttpRequest(f"{constant_url}/constant"), constant),
            "f": Side(
                "f",
                HttpRequest.graphql(f"{strawberry_url}/graphql", USER_PAGE, {"id": USER_ID}),
                strawberry,
            ),
        }


async def check_answers(sides: dict[str, Side]) -> dict[str, int]:
    """Each side answers what it stands for; the body sizes, by side."""
    bodies: dict[str, Any] = {}
    sizes: dict[str, int] = {}
    for name, side in sides.items():
        status, raw = await fetch(side.request)
        assert status == 200, (name, status, raw[:500])
        sizes[name] = len(raw)
        bodies[name] = json.loads(raw)
        assert "errors" not in bodies[name], (name, bodies[name])
    assert bodies["a"] == bodies["d"], "(d) must serve (a)'s page, field for field"
    assert sizes["e"] == sizes["a"]
    assert len(bodies["c"]["data"]["viewer"]["feed"]["edges"]) == PAGE
    assert len(bodies["f"]["data"]["node"]["photos"]["edges"]) == PAGE
    return sizes


# What loads a side: benchmarks/http_load.generate, several processes of it, or wrk.
Generator = Callable[..., Awaitable[LoadFigures]]


async def measure(
    side: Side, *, seconds: float, concurrency: int, generator: Generator = generate
) -> dict[str, float]:
    assert side.server.process is not None
    pid = side.server.process.pid
    cpu_before = server_cpu_seconds(pid)
    load = await generator(side.request, seconds=seconds, concurrency=concurrency)
    cpu = server_cpu_seconds(pid) - cpu_before
    assert load.errors == 0, f"({side.name}) answered {load.errors} requests with an error"
    return {
        "rps": load.per_second,
        "cpu_ms": cpu * 1000 / max(load.requests, 1),
        "p50_ms": load.p50_ms,
        "p99_ms": load.p99_ms,
        "requests": load.requests,
    }


async def load_sides(
    sides: dict[str, Side],
    *,
    seconds: float,
    rounds: int,
    concurrency: int,
    generator: Generator = generate,
) -> dict[str, dict[str, float]]:
    for side in sides.values():  # warm-up: caches, indexes, JIT-free but lazy imports
        await generator(side.request, seconds=min(seconds, 1.0), concurrency=concurrency)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, side in sides.items():
            samples[name].append(
                await measure(side, seconds=seconds, concurrency=concurrency, generator=generator)
            )
    return {
        name: {
            measure_name: statistics.median(sample[measure_name] for sample in runs)
            for measure_name in runs[0]
        }
        for name, runs in samples.items()
    }


def run(
    seconds: float = 4.0, rounds: int = 3, concurrency: int = 8, workers: int = 1
) -> dict[str, Any]:
    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="bench-http-"))
    try:
        with servers(tmp, workers) as sides:
            sizes = asyncio.run(check_answers(sides))
            table = asyncio.run(
                load_sides(sides, seconds=seconds, rounds=rounds, concurrency=concurrency)
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ratios = {f"{x}/{y}": table[x]["rps"] / table[y]["rps"] for x, y in RATIOS}
    return {
        "sides": table,
        "ratios": ratios,
        "body_bytes": sizes,
        "load_average": (load_before, os.getloadavg()),
    }


LABELS = {
    "a": "(a) GraphQL: a user's page of 20 photos with owners",
    "c": "(c) signed-in home feed page of 20",
    "d": "(d) plain Starlette route, same page, same store",
    "e": "(e) Starlette constant JSON, same size",
    "f": "(f) plain Strawberry + DataLoader, in memory",
}


def report(results: dict[str, Any]) -> str:
    lines = [
        "| side | req/s | CPU ms/request | p50 ms | p99 ms | bytes |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in results["sides"].items():
        lines.append(
            f"| {LABELS[name]} | {row['rps']:,.0f} | {row['cpu_ms']:.2f} | "
            f"{row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {results['body_bytes'][name]:,} |"
        )
    lines.append("")
    lines.append(", ".join(f"{name} = {value:.2f}" for name, value in results["ratios"].items()))
    p99_over_p50 = results["sides"]["a"]["p99_ms"] / results["sides"]["a"]["p50_ms"]
    lines.append(f"(a) p99/p50 = {p99_over_p50:.2f}")
    before, after = results["load_average"]
    lines.append(
        f"load average before {before[0]:.2f} {before[1]:.2f}, after {after[0]:.2f} {after[1]:.2f}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="for (d), (e) and (f)")
    args = parser.parse_args(argv)
    print(report(run(args.seconds, args.rounds, args.concurrency, args.workers)))


if __name__ == "__main__":
    main()
