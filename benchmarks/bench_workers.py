"""Does the real server scale with its processes? bench_http's (a) and (c), served by
`python -m serve` in one process and in N, alternated in one run.

    python -m benchmarks.bench_workers [--workers 2] [--seconds 4] [--rounds 3] [--concurrency 16]
                                       [--generators 2] [--tool wrk|python]

Three servers, each on its own copy of one seeded file (an embedded file admits a
process with the in-process cache only alone):

    1    one process, as `make run` serves: the in-process cache on
    1u   one process with the cache off, as each of the N processes runs
    N    `serve --workers N`: N processes on one file, the cache off

Sides a1, c1, a1u, c1u, aN, cN are loaded in turn, in `rounds` alternating rounds,
by wrk (benchmarks/wrk_load.py, `generators` threads), or with `--tool python` by
benchmarks/http_load.py spread over `generators` processes. The generator's CPU is
taken from the servers' cores: wrk spends a fraction of what the Python one does.
It prints per side the medians of req/s, the servers' CPU ms per request, p50 and
p99, then aN/a1u and cN/c1u (what the processes add) and aN/a1 and cN/c1 (against
the default), the ceiling the machine puts on aN/a1u and cN/c1u (`scaling_ceiling`:
with the generator on the same two cores, 2x is out of reach), and the load
average: on a shared machine the processes can only scale as far as the cores
they are given.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from auth.dev_tokens import key_path_in, mint_dev_token
from benchmarks import bench_social
from benchmarks.bench_http import HOME, ROOT, Side, copy_database, load_sides, seed
from benchmarks.http_load import HttpRequest, Load, fetch, generate
from benchmarks.http_sides import PAGE, SECRET, USER_ID, USER_PAGE
from benchmarks.wrk_load import WrkGenerator
from tests.utils.processes import ManagedServer, free_port


def configurations(workers: int) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Each server's name: (serve.py's arguments, its environment)."""
    return {
        "1": ([], {}),
        "1u": ([], {"TIMELINE_CACHE": "off"}),
        str(workers): (["--workers", str(workers)], {}),
    }


@contextmanager
def servers(tmp: Path, workers: int) -> Iterator[dict[str, Side]]:
    """(a) and (c) of each server, started on copies of one seeded file."""
    seeded = tmp / "seeded"
    asyncio.run(seed(seeded / "timeline.db"))
    token = mint_dev_token(key_path_in(seeded), bench_social._user("reader").id)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TIMELINE_SECRET_KEY": SECRET.decode()}
    for name in ("GAE_ENV", "TIMELINE_STORE", "TIMELINE_TASKS", "TIMELINE_DEMO_DATA"):
        env.pop(name, None)
    env.update({"TIMELINE_ENV": "local", "WEB_CONCURRENCY": ""})
    sides: dict[str, Side] = {}
    with ExitStack() as stack:
        for name, (arguments, extra) in configurations(workers).items():
            var = tmp / f"var{name}"
            var.mkdir()
            copy_database(seeded / "timeline.db", var / "timeline.db")
            shutil.copy(key_path_in(seeded), key_path_in(var))  # the reader's token holds
            port = free_port()
            argv = [sys.executable, "-m", "serve", "--host", "127.0.0.1", "--port", str(port)]
            server = ManagedServer(
                [*argv, *arguments],
                f"http://127.0.0.1:{port}/healthz",
                tmp / f"serve{name}.log",
                {**env, "TIMELINE_VAR_DIR": str(var), **extra},
                cwd=ROOT,
            )
            server.start()
            stack.callback(server.stop)
            graphql = f"http://127.0.0.1:{port}/graphql"
            page = HttpRequest.graphql(graphql, USER_PAGE, {"id": USER_ID, "n": PAGE})
            bearer = {"authorization": f"Bearer {token}"}
            home = HttpRequest.graphql(graphql, HOME, {"n": PAGE}, bearer)
            sides[f"a{name}"] = Side(f"a{name}", page, server)
            sides[f"c{name}"] = Side(f"c{name}", home, server)
        yield sides


async def check_answers(sides: dict[str, Side]) -> None:
    """Every server answers (a) and (c) alike."""
    bodies: dict[str, Any] = {}
    for name, side in sides.items():
        status, raw = await fetch(side.request)
        assert status == 200, (name, status, raw[:500])
        bodies[name] = json.loads(raw)
        assert "errors" not in bodies[name], (name, bodies[name])
    for kind in "ac":
        answers = [body for name, body in bodies.items() if name.startswith(kind)]
        assert all(answer == answers[0] for answer in answers), f"({kind}) differs between servers"


def _generate(request: HttpRequest, seconds: float, concurrency: int) -> tuple[Load, float]:
    """One generator process's load, and the CPU seconds it spent making it."""
    before = time.process_time()
    load = asyncio.run(generate(request, seconds=seconds, concurrency=concurrency))
    return load, time.process_time() - before


class SpreadLoad:
    """http_load.generate in `processes` processes, `concurrency` connections in all:
    one Python generator takes a core at a few hundred requests a second, which would
    cap what it can show of two server processes. It keeps its own CPU cost, which
    on a two-core machine bounds what the servers can get."""

    def __init__(self, pool: ProcessPoolExecutor, processes: int) -> None:
        self.pool, self.processes = pool, processes
        self.cpu_seconds, self.requests = 0.0, 0

    async def __call__(self, request: HttpRequest, *, seconds: float, concurrency: int) -> Load:
        loop = asyncio.get_running_loop()
        count = self.processes
        shares = [concurrency // count + (n < concurrency % count) for n in range(count)]
        parts = await asyncio.gather(
            *(
                loop.run_in_executor(self.pool, _generate, request, seconds, share)
                for share in shares
                if share
            )
        )
        merged = Load(seconds=max(part.seconds for part, _ in parts))
        for part, cpu in parts:
            merged.latencies += part.latencies
            merged.errors += part.errors
            self.cpu_seconds += cpu
        self.requests += merged.requests
        return merged


def run(
    seconds: float = 4.0,
    rounds: int = 3,
    concurrency: int = 16,
    workers: int = 2,
    generators: int = 2,
    tool: str = "wrk",
) -> dict[str, Any]:
    """`tool` makes the load: "wrk" (`generators` threads) or "python" (http_load in
    `generators` processes)."""
    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    try:
        with (
            servers(tmp, workers) as sides,
            ProcessPoolExecutor(generators, mp_context=get_context("spawn")) as pool,
        ):
            asyncio.run(check_answers(sides))
            generator: SpreadLoad | WrkGenerator = (
                WrkGenerator(generators) if tool == "wrk" else SpreadLoad(pool, generators)
            )
            table = asyncio.run(
                load_sides(
                    sides,
                    seconds=seconds,
                    rounds=rounds,
                    concurrency=concurrency,
                    generator=generator,
                )
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    generator_ms = generator.cpu_seconds * 1000 / max(generator.requests, 1)
    ratios, ceilings = {}, {}
    for kind in "ac":
        n = f"{kind}{workers}"
        ratios[f"{n}/{kind}1u"] = table[n]["rps"] / table[f"{kind}1u"]["rps"]
        ratios[f"{n}/{kind}1"] = table[n]["rps"] / table[f"{kind}1"]["rps"]
        ceilings[f"{n}/{kind}1u"] = scaling_ceiling(table[f"{kind}1u"], workers, generator_ms)
    return {
        "sides": table,
        "ratios": ratios,
        "ceilings": ceilings,
        "load_average": (load_before, os.getloadavg()),
        "concurrency": concurrency,
        "generators": generators,
        "tool": tool,
        "generator_cpu_ms": generator_ms,
    }


def scaling_ceiling(one: dict[str, float], workers: int, generator_ms: float) -> float:
    """The most aN/a1u can be on this machine: every core the processes may have
    busy, each request costing what it costs the one process plus what the
    generator, on the same cores, spends on it."""
    cores = min(workers, len(os.sched_getaffinity(0)))
    best_rps = cores * 1000 / (one["cpu_ms"] + generator_ms)
    return best_rps / one["rps"]


def report(results: dict[str, Any]) -> str:
    lines = [
        f"concurrency {results['concurrency']}, from {results['tool']} "
        f"({results['generators']} generator threads or processes), which spent "
        f"{results['generator_cpu_ms']:.3f} CPU ms a request",
        "| side | req/s | CPU ms/request | p50 ms | p99 ms |",
        "|---|---|---|---|---|",
    ]
    for name, row in results["sides"].items():
        lines.append(
            f"| {name} | {row['rps']:,.0f} | {row['cpu_ms']:.2f} | "
            f"{row['p50_ms']:.1f} | {row['p99_ms']:.1f} |"
        )
    lines.append("")
    lines.append(", ".join(f"{name} = {value:.2f}" for name, value in results["ratios"].items()))
    lines.append(
        "the machine's ceiling for them (every core busy, a request costing what it costs one "
        "process, plus the generator's share): "
        + ", ".join(f"{name} {value:.2f}" for name, value in results["ceilings"].items())
    )
    before, after = results["load_average"]
    lines.append(
        f"load average before {before[0]:.2f} {before[1]:.2f}, after {after[0]:.2f} {after[1]:.2f}"
        f" ({os.cpu_count()} CPUs)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--generators", type=int, default=2, help="wrk threads, or generator processes"
    )
    parser.add_argument("--tool", choices=("wrk", "python"), default="wrk")
    args = parser.parse_args(argv)
    results = run(
        args.seconds, args.rounds, args.concurrency, args.workers, args.generators, args.tool
    )
    print(report(results))


if __name__ == "__main__":
    main()
