"""The social feed: fan-out speed, the home feed against a profile page, and the
store round trips of a home-feed page.

    python -m benchmarks.bench_social [--followers 10000] [--rounds 3]

The real app in process on the embedded store, with its own embedded queue: the
fan-out is timed from the post's enqueue until the queue has drained.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from app import create_app
from auth.dev_tokens import key_path_in, mint_dev_token
from benchmarks.harness import median_latency
from resolvers import background
from resolvers.node_ids import to_global_id
from settings import CacheSettings, Settings
from store import models, social_models
from store.port import MAX_BATCH, Entity, Store
from store.sqlite import SQLiteStore
from taskqueue.embedded.queue import list_tasks
from tasks.outbox import outbox_records, relay

PAGE = 20
FIELDS = "id caption likeCount commentCount viewerHasLiked owner { username displayName }"
HOME = f"{{ viewer {{ feed(first: $n) {{ edges {{ cursor node {{ {FIELDS} }} }} }} }} }}"
PROFILE = f"""query($id: ID!, $n: Int) {{ node(id: $id) {{ ... on User {{
  photos(first: $n) {{ edges {{ cursor node {{ {FIELDS} }} }} }} }} }} }}"""


def _user(name: str) -> models.User:
    from datetime import UTC, datetime

    return models.User(f"id-{name}", name, name.title(), datetime(2026, 1, 1, tzinfo=UTC))


def _photo(owner: models.User, n: int) -> models.Photo:
    from datetime import UTC, datetime, timedelta

    when = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n)
    return models.Photo(owner.id, f"{owner.username}-{n:05d}", f"photo {n}", when)


async def _put(store: Store, entities: list[Entity]) -> None:
    for start in range(0, len(entities), MAX_BATCH):
        await store.put_many(entities[start : start + MAX_BATCH])


async def _drain(app: Any) -> None:
    db = app.state.tasks.db
    while True:
        rows = await db.read(lambda conn: list_tasks(conn, None, 1_000_000))
        if all(row.state in ("done", "failed") for row in rows):
            assert not [r for r in rows if r.state == "failed"], "a task failed"
            return
        await asyncio.sleep(0.01)


async def fanout_rate(app: Any, store: Store, followers: int) -> float:
    star = _user("star")
    fans = [f"fan-{n:05d}" for n in range(followers)]
    from datetime import UTC, datetime

    when = datetime(2026, 1, 1, tzinfo=UTC)
    await _put(
        store,
        [models.user_to_entity(star)]
        + [social_models.edge_entity(social_models.follower_key(star.id, f), f, when) for f in fans]
        + [
            social_models.edge_entity(social_models.following_key(f, star.id), star.id, when)
            for f in fans
        ],
    )
    photo = _photo(star, 1)
    await store.put_many([models.photo_to_entity(photo)])
    records = outbox_records(star.key, background.after_photo_created(photo), when)
    start = time.perf_counter()
    await relay(store, app.state.tasks.tasks, records)
    await _drain(app)
    elapsed = time.perf_counter() - start
    found = await store.get_many([social_models.feed_item_key(f, photo.key) for f in fans[:500]])
    assert all(found), "fan-out missed followers"
    return followers / elapsed


async def seed_reader(store: Store) -> tuple[models.User, models.User]:
    """A reader who follows 10 users (30 photos each) and one of those users."""
    reader, authors = _user("reader"), [_user(f"author{n}") for n in range(10)]
    entities = [models.user_to_entity(u) for u in [reader, *authors]]
    for index, author in enumerate(authors):
        photos = [_photo(author, index * 100 + n) for n in range(30)]
        entities += [models.photo_to_entity(p) for p in photos]
        entities += [social_models.feed_item(reader.id, p.key, p.sort_key) for p in photos]
        entities.append(
            social_models.edge_entity(
                social_models.following_key(reader.id, author.id), author.id, photos[0].created_at
            )
        )
    await _put(store, entities)
    return reader, authors[0]


async def run(followers: int, rounds: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(  # the store's own cost; bench_cache measures the cache
            var_dir=Path(tmp),
            sqlite_path=Path(tmp) / "b.db",
            secret_key=b"bench" * 8,
            cache=CacheSettings(backend="off"),
        )
        store = SQLiteStore(settings.sqlite_path)
        app = create_app(settings, store=store)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as http,
        ):
            results = {"fanout_items_per_s": await fanout_rate(app, store, followers)}
            reader, author = await seed_reader(store)
            token = mint_dev_token(key_path_in(settings.var_dir), reader.id)
            headers = {"Authorization": f"Bearer {token}"}
            author_id = to_global_id("User", author.key)

            async def home(n: int = PAGE) -> None:
                body = await post(
                    http, HOME.replace("{ viewer", "query($n: Int) { viewer", 1), {"n": n}, headers
                )
                assert len(body["data"]["viewer"]["feed"]["edges"]) == n

            async def profile() -> None:
                body = await post(http, PROFILE, {"id": author_id, "n": PAGE}, headers)
                assert len(body["data"]["node"]["photos"]["edges"]) == PAGE

            home_ms, profile_ms = [], []
            for _ in range(rounds):
                home_ms.append(await median_latency(home, repeats=40) * 1000)
                profile_ms.append(await median_latency(profile, repeats=40) * 1000)
            results["home_feed_ms"] = statistics.median(home_ms)
            results["profile_page_ms"] = statistics.median(profile_ms)
            results["home_over_profile"] = results["home_feed_ms"] / results["profile_page_ms"]
            for size in (10, 20, 50):
                before = store.round_trips
                await home(size)
                results[f"round_trips_home_page_{size}"] = store.round_trips - before
        return results


async def post(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any], headers: dict[str, str]
) -> dict[str, Any]:
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--followers", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results = asyncio.run(run(args.followers, args.rounds))
    width = max(len(name) for name in results)
    for name, value in results.items():
        print(f"{name:<{width}}  {value:10.3f}")


if __name__ == "__main__":
    main()
