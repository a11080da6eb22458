"""Compiled plans against graphql-core's executor, in process.

    python -m benchmarks.bench_plans [--requests 200] [--rounds 3]

The same schema twice (schema/compiled/ on, and off: graphql-core with plain
fields), `schema.execute` called straight (no HTTP), over bench_http's seeded
store: (a) a user's page of 20 with owners, (c) the signed-in home feed of 20,
and the app's Profile and HomeFeed documents (tests/utils/app_documents.py, 20
photos each). It prints CPU ms per request (best round) of each side, the
ratio, and the asyncio Tasks one request makes on each side; every answer of
the two sides must be equal.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from auth.viewer import Viewer
from benchmarks import bench_social
from benchmarks.bench_http import HOME, seed
from benchmarks.http_sides import USER_ID, USER_PAGE
from media.image_work import ImagePipeline
from media.local_blobs import LocalBlobStore
from media.pipeline import ImageLimits
from media.services import Media
from resolvers.context import RequestContext
from resolvers.cursors import CursorCodec
from schema import TimelineSchema, build_schema
from schema.compiled import CompiledExecution
from store.sqlite import SQLiteStore
from taskqueue.embedded.database import task_database
from taskqueue.embedded.queue import EmbeddedQueue
from taskqueue.enqueue import Tasks
from tasks.outbox import Relays
from tests.utils import app_documents

CURSORS = CursorCodec(b"bench-plans" * 3)
OPERATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "(a) user page": (USER_PAGE, {"id": USER_ID, "n": 20}),
    "(c) home feed": (HOME, {"n": 20}),
    "app Profile": (app_documents.PROFILE, {"username": "bench", "first": 20}),
    "app HomeFeed": (app_documents.HOME_FEED, {"first": 20}),
}


def generic(schema: TimelineSchema) -> TimelineSchema:
    """`schema` executed by graphql-core (with plain fields), without plans."""
    assert issubclass(schema.execution_context_class, CompiledExecution)
    schema.execution_context_class = schema.execution_context_class.__mro__[2]
    return schema


async def run(requests: int, rounds: int) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plans.db"
        await seed(path)
        store = SQLiteStore(path)
        database = task_database(Path(tmp) / "tasks.db")
        pipeline = ImagePipeline(ImageLimits(), memory_budget=256 << 20)
        media = Media(pipeline, LocalBlobStore(Path(tmp) / "media"))
        try:
            return await _measure(store, Tasks(EmbeddedQueue(database)), media, requests, rounds)
        finally:
            await store.close()
            database.close()


async def _measure(
    store: SQLiteStore, tasks: Tasks, media: Media, requests: int, rounds: int
) -> dict[str, dict[str, float]]:
    sides = {"compiled": build_schema(), "generic": generic(build_schema())}
    viewer = Viewer(bench_social._user("reader").id, "dev")
    relays = Relays(store, tasks)

    async def execute(schema: TimelineSchema, query: str, variables: dict[str, Any]) -> Any:
        context = RequestContext(store, CURSORS, tasks, media, relays, viewer=viewer)
        result = await schema.execute(query, variable_values=variables, context_value=context)
        assert not result.errors, result.errors
        return result.data

    results: dict[str, dict[str, float]] = {}
    for name, (query, variables) in OPERATIONS.items():
        answers = [await execute(schema, query, variables) for schema in sides.values()]
        assert answers[0] == answers[1], name
        figures: dict[str, float] = {}
        for side, schema in sides.items():
            figures[f"{side}_tasks"] = await _tasks(execute(schema, query, variables))
            best = float("inf")
            for _ in range(rounds):
                start = time.process_time()
                for _ in range(requests):
                    await execute(schema, query, variables)
                best = min(best, (time.process_time() - start) / requests * 1000)
            figures[f"{side}_cpu_ms"] = best
        figures["ratio"] = figures["generic_cpu_ms"] / figures["compiled_cpu_ms"]
        results[name] = figures
    return results


async def _tasks(request: Coroutine[Any, Any, Any]) -> float:
    """The asyncio Tasks one request creates."""
    loop = asyncio.get_running_loop()
    created = 0

    def counting(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
        nonlocal created
        created += 1
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(counting)
    try:
        await request
    finally:
        loop.set_task_factory(None)
    return created


def report(results: dict[str, dict[str, float]]) -> str:
    lines = [
        "| operation | generic CPU ms | compiled CPU ms | ratio | Tasks generic / compiled |",
        "|---|---|---|---|---|",
    ]
    for name, f in results.items():
        lines.append(
            f"| {name} | {f['generic_cpu_ms']:.2f} | {f['compiled_cpu_ms']:.2f} "
            f"| {f['ratio']:.2f}x | {f['generic_tasks']:.0f} / {f['compiled_tasks']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    print(report(asyncio.run(run(args.requests, args.rounds))))


if __name__ == "__main__":
    main()
