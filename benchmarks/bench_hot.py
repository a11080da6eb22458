"""Hot entity groups: many users liking one photo, or following one user, at once.

    python -m benchmarks.bench_hot [--seconds 30] [--rate 50] [--users 50]

The real app in process (ASGI, dev tokens) over the official Cloud Datastore
emulator, with its embedded task queue. Each scenario sends `rate` mutations a
second, open loop, for `seconds`: user n of `users` toggles its like (or follow)
once a round, so every request changes the count. A reader asks for the count and
the owner's notifications alongside. After the load the queue is drained, and the
run holds when:

- no client saw an error (GraphQL errors or a UserError in a payload);
- the count the API shows equals the likes (follow edges) that exist;
- the owner's notification names every user who ever liked (followed);
- the followers list holds exactly the followers (follows).

Aborted calls are the store calls Datastore refused with ABORTED (retried by
run_in_transaction), read from the adapter's own tally.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from app import create_app
from benchmarks.hot_load import Outcome, load, post
from resolvers.node_ids import to_global_id
from settings import Settings
from store import models, social_models
from store.datastore import DatastoreStore
from store.notification_models import current_notifications
from store.port import Store
from tests.utils.accounts import bearer
from tests.utils.builders import make_photos, make_user
from tests.utils.draining import drain

LIKE = """mutation($i: LikeInput!) { likePhoto(input: $i) { errors { code } } }"""
UNLIKE = """mutation($i: LikeInput!) { unlikePhoto(input: $i) { errors { code } } }"""
FOLLOW = """mutation($i: FollowInput!) { follow(input: $i) { errors { code } } }"""
UNFOLLOW = """mutation($i: FollowInput!) { unfollow(input: $i) { errors { code } } }"""
LIKE_COUNT = """query($id: ID!) { node(id: $id) { ... on Photo { likeCount } } }"""
FOLLOWERS = """query($id: ID!) { node(id: $id) { ... on User {
  followerCount followers(first: 50) { edges { node { id } } } } } }"""
NOTIFICATIONS = """{ viewer { notifications(first: 10) { edges { node { kind actorCount } } } } }"""
NOTIFICATIONS_LITE = """{ viewer { unreadNotificationCount
  notifications(first: 10) { edges { node { kind actorCount } } } } }"""


def _toggle(n: int, users: int) -> bool:
    """Request n is user n % users's turn in round n // users; each user alternates."""
    return (n // users + n % users) % 2 == 0


async def _actors(
    http: httpx.AsyncClient,
    store: Store,
    owner: models.User,
    headers: dict[str, str],
    kind: str,
    subject: str,
) -> int:
    """How many actors the owner's one notification of `kind` counts, when the API
    shows exactly one and its stored actor set names that many; -1 otherwise."""
    body, failure = await post(http, NOTIFICATIONS, {}, headers)
    assert failure is None, failure
    assert body is not None
    edges = body["data"]["viewer"]["notifications"]["edges"]
    shown = [e["node"]["actorCount"] for e in edges if e["node"]["kind"] == kind]
    [stored] = await current_notifications(store, owner.id, [(kind, subject)])
    if len(shown) != 1 or not stored.stored:
        return -1
    named = set(stored.actor_ids)
    return int(shown[0]) if len(named) == shown[0] else -1


async def hot_photo(
    http: httpx.AsyncClient,
    store: Store,
    settings: Settings,
    *,
    rate: float,
    seconds: float,
    users: int,
) -> Outcome:
    owner = await make_user(store, "hot-owner")
    [photo] = await make_photos(store, owner, 1)
    fans = [await make_user(store, f"liker{n:03d}") for n in range(users)]
    headers = [bearer(settings, fan.id) for fan in fans]
    as_owner = bearer(settings, owner.id)
    photo_id = to_global_id("Photo", photo.key)
    outcome = Outcome("likes")

    def mutation(n: int) -> tuple[str, dict[str, Any]]:
        return (LIKE if _toggle(n, users) else UNLIKE), {"i": {"photoId": photo_id}}

    async def read() -> str | None:
        _, failure = await post(http, LIKE_COUNT, {"id": photo_id}, as_owner)
        if failure is None:
            _, failure = await post(http, NOTIFICATIONS_LITE, {}, as_owner)
        return failure

    before = _aborted(store)
    await load(
        http, outcome, rate=rate, seconds=seconds, users=headers, mutation=mutation, read=read
    )
    await drain(http, within=120)
    outcome.aborted = _aborted(store) - before
    likes = await store.get_many([social_models.like_key(f.id, photo.key) for f in fans])
    outcome.count_expected = sum(1 for like in likes if like is not None)
    body, _ = await post(http, LIKE_COUNT, {"id": photo_id}, as_owner)
    outcome.count_shown = body["data"]["node"]["likeCount"] if body else -1
    outcome.actors_expected = min(users, round(rate * seconds))  # each fan liked at least once
    outcome.actors_notified = await _actors(
        http, store, owner, as_owner, "LIKE", photo.key.encode()
    )
    return outcome


async def hot_user(
    http: httpx.AsyncClient,
    store: Store,
    settings: Settings,
    *,
    rate: float,
    seconds: float,
    users: int,
) -> Outcome:
    star = await make_user(store, "hot-star")
    fans = [await make_user(store, f"follower{n:03d}") for n in range(users)]
    headers = [bearer(settings, fan.id) for fan in fans]
    as_star = bearer(settings, star.id)
    star_id = to_global_id("User", star.key)
    outcome = Outcome("follows")

    def mutation(n: int) -> tuple[str, dict[str, Any]]:
        return (FOLLOW if _toggle(n, users) else UNFOLLOW), {"i": {"userId": star_id}}

    async def read() -> str | None:
        _, failure = await post(http, FOLLOWERS, {"id": star_id}, as_star)
        if failure is None:
            _, failure = await post(http, NOTIFICATIONS_LITE, {}, as_star)
        return failure

    before = _aborted(store)
    await load(
        http, outcome, rate=rate, seconds=seconds, users=headers, mutation=mutation, read=read
    )
    await drain(http, within=120)
    outcome.aborted = _aborted(store) - before
    edges = await store.get_many([social_models.following_key(f.id, star.id) for f in fans])
    following = {to_global_id("User", f.key) for f, e in zip(fans, edges, strict=True) if e}
    outcome.count_expected = len(following)
    body, _ = await post(http, FOLLOWERS, {"id": star_id}, as_star)
    node = body["data"]["node"] if body else None
    outcome.count_shown = node["followerCount"] if node else -1
    listed = {e["node"]["id"] for e in node["followers"]["edges"]} if node else set()
    outcome.listed_ok = listed == following
    outcome.actors_expected = min(users, round(rate * seconds))
    outcome.actors_notified = await _actors(http, store, star, as_star, "FOLLOW", "")
    return outcome


def _aborted(store: Store) -> int:
    return getattr(store, "aborted_calls", 0)


Scenario = Callable[..., Awaitable[Outcome]]
SCENARIOS: dict[str, Scenario] = {"likes": hot_photo, "follows": hot_user}


async def run_scenario(
    scenario: str, store: Store, settings: Settings, *, rate: float, seconds: float, users: int
) -> Outcome:
    """One scenario through a fresh app over `store` (the caller owns the store)."""
    app = create_app(settings, store=store)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=120
        ) as http,
    ):
        return await SCENARIOS[scenario](
            http, store, settings, rate=rate, seconds=seconds, users=users
        )


async def run(seconds: float, rate: float, users: int) -> list[Outcome]:
    from tests.utils.datastore_emulator import PROJECT_ID, DatastoreEmulator

    outcomes = []
    with tempfile.TemporaryDirectory() as tmp:
        emulator = DatastoreEmulator(Path(tmp))
        try:
            for scenario in SCENARIOS:
                emulator.reset()
                var = Path(tmp) / scenario
                var.mkdir()
                settings = Settings(
                    var_dir=var, sqlite_path=var / "timeline.db", secret_key=b"bench-hot" * 4
                )
                store = DatastoreStore(PROJECT_ID, client=emulator.client())
                try:
                    outcomes.append(
                        await run_scenario(
                            scenario, store, settings, rate=rate, seconds=seconds, users=users
                        )
                    )
                finally:
                    await store.close()
        finally:
            emulator.stop()
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--users", type=int, default=50)
    args = parser.parse_args()
    for outcome in asyncio.run(run(args.seconds, args.rate, args.users)):
        results = outcome.summary()
        width = max(len(name) for name in results)
        for name, value in results.items():
            print(f"{name:<{width}}  {value:10.1f}")
        for failure in sorted(set(outcome.errors + outcome.read_errors))[:5]:
            print("  e.g.", failure)
        print(f"{outcome.scenario}: {'holds' if outcome.holds else 'DOES NOT HOLD'}")


if __name__ == "__main__":
    main()
