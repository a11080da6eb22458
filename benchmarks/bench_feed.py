"""Feed pages: GraphQL against a plain JSON route (the ceiling), round trips per
page, and a deep page against the first.

    python -m benchmarks.bench_feed [--seconds 2] [--rounds 3]

Runs in process over httpx's ASGI transport on the embedded store, so it measures
our code and the frameworks, not a network.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app import create_app
from benchmarks.harness import interleaved_throughput, median_latency
from resolvers.node_ids import to_global_id
from settings import CacheSettings, Settings
from store import models
from store.port import MAX_BATCH, Query, Store
from store.sqlite import SQLiteStore

PAGE = 20
DEEP_PAGE = 500
# The user is addressed by global id, as Apollo refetches it: the page then costs
# one ancestor query and one batched owner get. (`user(username:)` adds one get.)
USER_ID = to_global_id("User", models.user_key("bench-user"))
FEED = """query($id: ID!, $after: String, $n: Int) { node(id: $id) { ... on User {
  photos(first: $n, after: $after) {
    edges { cursor node { id caption createdAt owner { id username } } }
    pageInfo { hasNextPage endCursor } } } } }"""


def ceiling_app(store: Store) -> Starlette:
    """The same page with no GraphQL: one query and one batched owner lookup."""

    async def page(request: Request) -> JSONResponse:
        user_id = "bench-user"
        query = Query(kind=models.PHOTO, order_by="sort_key", ancestor=models.user_key(user_id))
        results = await store.page(query, limit=PAGE + 1)
        photos = [models.photo_from_entity(r.entity) for r in results[:PAGE]]
        owner_keys = list({models.user_key(p.owner_id) for p in photos})
        owners = {
            e.key.name: models.user_from_entity(e) for e in await store.get_many(owner_keys) if e
        }
        return JSONResponse(
            [
                {
                    "id": p.id,
                    "caption": p.caption,
                    "createdAt": p.created_at.isoformat(),
                    "owner": {"id": p.owner_id, "username": owners[p.owner_id].username},
                }
                for p in photos
            ]
        )

    return Starlette(routes=[Route("/page", page)])


async def seed(store: Store, photo_count: int) -> None:
    user = models.User("bench-user", "bench", "Bench Mark", models_epoch())
    entities = [models.user_to_entity(user), models.username_claim(user)]
    entities += [
        models.photo_to_entity(
            models.Photo("bench-user", f"p{n:06d}", f"caption {n}", models_epoch(n))
        )
        for n in range(photo_count)
    ]
    for start in range(0, len(entities), MAX_BATCH):
        await store.put_many(entities[start : start + MAX_BATCH])


def models_epoch(seconds: int = 0) -> Any:
    from datetime import UTC, datetime, timedelta

    return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)


async def graphql(http: httpx.AsyncClient, **variables: Any) -> dict[str, Any]:
    payload = {"query": FEED, "variables": {"id": USER_ID, **variables}}
    response = await http.post("/graphql", json=payload)
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


async def run(seconds: float, rounds: int, deep_page: int = DEEP_PAGE) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "bench.db")
        await seed(store, PAGE * deep_page + PAGE)
        # The store's own cost; bench_cache measures what the cache saves.
        settings = Settings(
            var_dir=Path(tmp), secret_key=b"bench" * 8, cache=CacheSettings(backend="off")
        )
        app = create_app(settings, store=store)
        transport = httpx.ASGITransport(app=app)
        ceiling = httpx.ASGITransport(app=ceiling_app(store))
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://bench") as gql,
            httpx.AsyncClient(transport=ceiling, base_url="http://bench") as plain,
        ):

            async def graphql_page() -> None:
                await graphql(gql, n=PAGE)

            async def plain_page() -> None:
                response = await plain.get("/page")
                assert len(response.json()) == PAGE

            results: dict[str, float] = {}
            rates = await interleaved_throughput(
                {"graphql": graphql_page, "ceiling": plain_page},
                rounds=rounds,
                seconds=seconds,
                concurrency=8,
            )
            results["graphql_rps"] = rates["graphql"]
            results["ceiling_rps"] = rates["ceiling"]
            results["graphql_over_ceiling"] = rates["graphql"] / rates["ceiling"]

            for size in (10, 20, 50):
                before = store.round_trips
                await graphql(gql, n=size)
                results[f"round_trips_page_{size}"] = store.round_trips - before

            deep_cursor = await cursor_before_page(gql, deep_page)

            async def first_page_request() -> None:
                await graphql(gql, n=PAGE)

            async def deep_page_request() -> None:
                await graphql(gql, n=PAGE, after=deep_cursor)

            first, deep = [], []
            for _ in range(rounds):
                first.append(await median_latency(first_page_request, repeats=50))
                deep.append(await median_latency(deep_page_request, repeats=50))
            results["page_1_ms"] = sorted(first)[len(first) // 2] * 1000
            results[f"page_{deep_page}_ms"] = sorted(deep)[len(deep) // 2] * 1000
            results[f"page_{deep_page}_over_page_1"] = (
                results[f"page_{deep_page}_ms"] / results["page_1_ms"]
            )
        await store.close()
        return results


async def cursor_before_page(http: httpx.AsyncClient, page_number: int) -> str:
    """Walks page by page, as a client would, to the cursor that opens the page."""
    after: str | None = None
    for _ in range(page_number - 1):
        body = await graphql(http, n=PAGE, after=after)
        after = body["data"]["node"]["photos"]["pageInfo"]["endCursor"]
    assert after is not None
    return after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one timed run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per side")
    args = parser.parse_args()
    results = asyncio.run(run(args.seconds, args.rounds))
    width = max(len(name) for name in results)
    for name, value in results.items():
        print(f"{name:<{width}}  {value:10.3f}")


if __name__ == "__main__":
    main()
