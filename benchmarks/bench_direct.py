"""The GraphQL route's direct path (graphql_direct.py), in process:
`python -m benchmarks.bench_direct --requests 1000 --rounds 5`.

bench_http's side (a), a user's page of 20 photos with owners, is sent straight
to the app's ASGI callable (no server, no client: the CPU is the app's own) with
the direct path off and on, and bench_http's side (d), the plain Starlette page
over the same file, beside them; the three alternate in each round. It prints
each round's CPU ms per request (the process's, reader threads included) and
the medians, with (d)/(a) as a CPU ratio: on a shared machine CPU time moves
far less with the load than requests a second do.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import graphql_direct
from app import create_app
from benchmarks.bench_http import seed
from benchmarks.http_sides import PAGE, SECRET, USER_ID, USER_PAGE
from settings import Settings
from store.sqlite import SQLiteStore

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
WARM_UP = 50


def request_scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"bench"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }


async def cpu_ms(
    app: App, scope: dict[str, Any], body: bytes, requests: int, warm_up: int = WARM_UP
) -> float:
    """CPU ms per request of `requests` sent one after another, after `warm_up`."""
    statuses: set[int] = set()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.add(message["status"])

    for _ in range(warm_up):
        await app({**scope, "state": {}}, receive, send)
    started = time.process_time()
    for _ in range(requests):
        await app({**scope, "state": {}}, receive, send)
    spent = time.process_time() - started
    assert statuses == {200}, statuses
    return spent / requests * 1000


async def graphql_side(settings: Settings, *, direct: bool, requests: int) -> tuple[float, int]:
    """(a)'s CPU ms per request, and how many the direct path answered."""
    app = create_app(settings, store=SQLiteStore(settings.sqlite_path), direct_graphql=direct)
    body = json.dumps({"query": USER_PAGE, "variables": {"id": USER_ID, "n": PAGE}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    scope = request_scope("POST", "/graphql", headers)
    async with app.router.lifespan_context(app):
        await cpu_ms(app, scope, body, WARM_UP, warm_up=0)  # the first teaches the path
        before = graphql_direct.stats.answered
        ms = await cpu_ms(app, scope, body, requests, warm_up=0)
        return ms, graphql_direct.stats.answered - before


async def plain_side(path: Path, requests: int) -> float:
    os.environ["BENCH_HTTP_DB"] = str(path)
    from benchmarks.http_sides import plain_page_app

    app = plain_page_app()
    async with app.router.lifespan_context(app):
        return await cpu_ms(app, request_scope("GET", "/page", []), b"", requests)


async def run(requests: int = 1000, rounds: int = 5) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp)
        settings = Settings(
            environment="local", var_dir=var, sqlite_path=var / "timeline.db", secret_key=SECRET
        )
        await seed(settings.sqlite_path)
        plain = var / "plain.db"
        shutil.copy(settings.sqlite_path, plain)
        rows: list[dict[str, float]] = []
        answered = {"off": 0, "on": 0}
        for _ in range(rounds):
            off, answered_off = await graphql_side(settings, direct=False, requests=requests)
            on, answered_on = await graphql_side(settings, direct=True, requests=requests)
            answered["off"] += answered_off
            answered["on"] += answered_on
            rows.append({"off": off, "on": on, "d": await plain_side(plain, requests)})
    medians = {side: statistics.median(row[side] for row in rows) for side in ("off", "on", "d")}
    return {"rounds": rows, "medians": medians, "answered": answered}


def report(results: dict[str, Any]) -> str:
    lines = ["| round | (a) direct off | (a) direct on | on/off | (d) | (d)/(a) on |"]
    lines.append("|---|---|---|---|---|---|")
    rows = [*enumerate(results["rounds"], 1), ("median", results["medians"])]
    for name, row in rows:
        lines.append(
            f"| {name} | {row['off']:.3f} | {row['on']:.3f} | {row['on'] / row['off']:.2f} "
            f"| {row['d']:.3f} | {row['d'] / row['on']:.2f} |"
        )
    lines.append(f"answered directly: {results['answered']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    print("CPU ms per request, in process", file=sys.stderr)
    print(report(asyncio.run(run(args.requests, args.rounds))))


if __name__ == "__main__":
    main()
