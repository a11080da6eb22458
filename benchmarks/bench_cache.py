"""The cache: hit ratio and req/s of a profile page without it, in this process's
memory, and on Redis; and the store round trips of a cold and a warm page.

    python -m benchmarks.bench_cache [--seconds 2] [--rounds 3] [--redis-url URL]

The real app in process over httpx's ASGI transport, on the embedded store, once
per side (each over its own copy of the same data, so no side's writes leave
another's cache behind). A profile page is a user by username with its display
name, follower and following counts and first 12 photos with their like and
comment counts; every tenth request is a follow or unfollow by one user of
another, which invalidates both users' counts. Without --redis-url a redis-server
is started on 127.0.0.1 (no persistence) if one is installed, else the Redis side
is left out. Also the CPU time a warm page costs, pages read one at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from app import create_app
from auth.dev_tokens import key_path_in, mint_dev_token
from benchmarks.harness import interleaved_throughput
from cache.store import CachedStore
from resolvers.node_ids import to_global_id
from settings import CacheSettings, Settings
from store import models
from store.port import MAX_BATCH, Entity
from store.sqlite import SQLiteStore

USERS = 100
PHOTOS = 12
WRITE_EVERY = 10
PROFILE = """query($username: String!) { user(username: $username) {
  id username displayName followerCount followingCount
  photos(first: 12) { edges { cursor node { id caption likeCount commentCount } }
                      pageInfo { hasNextPage endCursor } } } }"""
FOLLOW = "mutation($i: FollowInput!) { follow(input: $i) { errors { code } } }"
UNFOLLOW = "mutation($i: FollowInput!) { unfollow(input: $i) { errors { code } } }"


def _seed_entities(users: int) -> list[Entity]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    entities: list[Entity] = []
    for n in range(users):
        user = models.User(f"u{n:03d}", f"user{n:03d}", f"User {n}", start)
        entities += [models.user_to_entity(user), models.username_claim(user)]
        for p in range(PHOTOS + 3):
            photo = models.Photo(user.id, f"u{n:03d}-{p}", f"photo {p}", start + timedelta(p))
            entities.append(models.photo_to_entity(photo))
    return entities


class Side:
    """One app (one cache choice) over its own copy of the data."""

    def __init__(
        self, name: str, http: httpx.AsyncClient, store: Any, var_dir: Path, users: int
    ) -> None:
        self.name, self.http, self.store, self.var_dir = name, http, store, var_dir
        self.users = users
        self.random = random.Random(name)
        self.requests = 0
        self.following: set[tuple[int, int]] = set()

    async def request(self) -> None:
        self.requests += 1
        if self.requests % WRITE_EVERY:
            username = f"user{self.random.randrange(self.users):03d}"
            body = await self.post(PROFILE, {"username": username})
            assert body["data"]["user"]["username"] == username, body
            return
        who, whom = self.random.sample(range(self.users), 2)
        edge = (who, whom)
        mutation = UNFOLLOW if edge in self.following else FOLLOW
        self.following ^= {edge}
        target = to_global_id(models.USER, models.user_key(f"u{whom:03d}"))
        token = mint_dev_token(key_path_in(self.var_dir), f"u{who:03d}")
        body = await self.post(mutation, {"i": {"userId": target}}, token)
        assert "errors" not in body, body

    async def post(
        self, query: str, variables: dict[str, Any], token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        body: dict[str, Any] = response.json()
        return body

    def counts(self) -> tuple[int, int]:
        if isinstance(self.store, CachedStore):
            return self.store.hits, self.store.misses
        return 0, 0


@asynccontextmanager
async def side(name: str, cache: CacheSettings, root: Path, users: int) -> AsyncIterator[Side]:
    var_dir = root / name
    settings = Settings(
        var_dir=var_dir, sqlite_path=var_dir / "timeline.db", secret_key=b"bench" * 8, cache=cache
    )
    store = SQLiteStore(settings.sqlite_path)
    entities = _seed_entities(users)
    for start in range(0, len(entities), MAX_BATCH):
        await store.put_many(entities[start : start + MAX_BATCH])
    app = create_app(settings, store=store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        yield Side(name, http, app.state.store, var_dir, users)
    await app.state.store.close()


async def round_trips(one: Side, username: str) -> tuple[int, int]:
    """Store round trips of the first profile page of `username`, then of the next."""
    costs = []
    for _ in range(2):
        before = one.store.round_trips
        await one.post(PROFILE, {"username": username})
        costs.append(one.store.round_trips - before)
    return costs[0], costs[1]


async def cpu_per_page(one: Side, passes: int = 2) -> float:
    """CPU seconds (every thread of the process) per warm profile page, one at a time:
    steadier on a shared machine than req/s, which waits on everyone else's work."""
    start = time.process_time()
    for _ in range(passes):
        for n in range(one.users):
            await one.post(PROFILE, {"username": f"user{n:03d}"})
    return (time.process_time() - start) / (passes * one.users)


async def run(
    seconds: float, rounds: int, redis_url: str | None, users: int = USERS
) -> dict[str, float]:
    caches = {"off": CacheSettings(backend="off"), "memory": CacheSettings(backend="memory")}
    if redis_url:
        caches["redis"] = CacheSettings(backend="redis", redis_url=redis_url)
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        async with _sides(caches, Path(tmp), users) as sides:
            for one in sides.values():
                cold, warm = await round_trips(one, "user000")
                results[f"{one.name}_round_trips_cold"] = cold
                results[f"{one.name}_round_trips_warm"] = warm
            for one in sides.values():  # every profile once: the steady state is measured
                for n in range(users):
                    await one.post(PROFILE, {"username": f"user{n:03d}"})
            before = {name: one.counts() for name, one in sides.items()}
            rates = await interleaved_throughput(
                {name: one.request for name, one in sides.items()},
                rounds=rounds,
                seconds=seconds,
                concurrency=8,
            )
            cpu = {name: await cpu_per_page(one) for name, one in sides.items()}
            for name, one in sides.items():
                results[f"{name}_rps"] = rates[name]
                results[f"{name}_cpu_ms_per_page"] = cpu[name] * 1000
                results[f"{name}_cpu_over_off"] = cpu[name] / cpu["off"]
                if name != "off":
                    hits = one.counts()[0] - before[name][0]
                    misses = one.counts()[1] - before[name][1]
                    results[f"{name}_hit_ratio"] = hits / max(hits + misses, 1)
                    results[f"{name}_over_off"] = rates[name] / rates["off"]
    return results


@asynccontextmanager
async def _sides(
    caches: dict[str, CacheSettings], root: Path, users: int
) -> AsyncIterator[dict[str, Side]]:
    opened: dict[str, Side] = {}
    managers = [side(name, cache, root, users) for name, cache in caches.items()]
    try:
        for name, manager in zip(caches, managers, strict=True):
            opened[name] = await manager.__aenter__()
        yield opened
    finally:
        for manager in managers[: len(opened)][::-1]:
            await manager.__aexit__(None, None, None)


@contextmanager
def local_redis() -> Iterator[str | None]:
    """A redis-server of our own on 127.0.0.1, if one is installed."""
    if shutil.which("redis-server") is None:
        print("redis-server is not installed (make system-deps): the Redis side is left out")
        yield None
        return
    from tests.utils.redis_server import RedisServer

    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp))
        server.start()
        try:
            yield server.url
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one timed run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per side")
    parser.add_argument("--redis-url", help="a Redis to use instead of starting one")
    args = parser.parse_args()
    if args.redis_url:
        results = asyncio.run(run(args.seconds, args.rounds, args.redis_url))
    else:
        with local_redis() as url:
            results = asyncio.run(run(args.seconds, args.rounds, url))
    width = max(len(name) for name in results)
    for name, value in results.items():
        print(f"{name:<{width}}  {value:10.3f}")


if __name__ == "__main__":
    main()
