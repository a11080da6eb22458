"""The cache through the real app, on both stores and both cache adapters: a warm
profile page costs fewer store round trips, and every write is read back at once,
by the writer and by another instance sharing the Redis."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app import create_app
from resolvers.node_ids import to_global_id
from settings import CacheSettings, Settings
from store import models
from store.port import Store
from tests.utils import images
from tests.utils.accounts import UPDATE_PROFILE, bearer, call, create_profile
from tests.utils.clients import app_client
from tests.utils.draining import drain
from tests.utils.uploads import DELETE_PHOTO, UPDATE_CAPTION, create_photo

PROFILE = """query($username: String!) { user(username: $username) {
  id username displayName followerCount followingCount
  photos(first: 12) { edges { cursor node { id caption likeCount commentCount } }
                      pageInfo { hasNextPage endCursor } } } }"""
PHOTO = """query($id: ID!) { node(id: $id) { ... on Photo { caption likeCount } } }"""
FOLLOW = """mutation($i: FollowInput!) { follow(input: $i) { errors { code } } }"""
LIKE = """mutation($i: LikeInput!) { likePhoto(input: $i) { errors { code } } }"""


def with_cache(settings: Settings, backend: str, redis_url: str | None = None) -> Settings:
    """`settings` with this cache, and no cron scheduler to touch the store unasked."""
    cache = CacheSettings(backend=backend, redis_url=redis_url)  # type: ignore[arg-type]
    tasks = dataclasses.replace(settings.tasks, cron_scheduler=False)
    return dataclasses.replace(settings, cache=cache, tasks=tasks)


@pytest.fixture(params=["memory", "redis"])
def cached_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    if request.param == "redis":
        return with_cache(settings, "redis", request.getfixturevalue("redis_url"))
    return with_cache(settings, "memory")


@pytest.fixture
async def http(cached_settings: Settings, store: Store) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(cached_settings, store) as client:
        yield client


async def ok(
    http: httpx.AsyncClient, query: str, headers: dict[str, str] | None = None, **variables: Any
) -> dict[str, Any]:
    body = await call(http, query, variables, headers)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    for payload in data.values():
        if isinstance(payload, dict) and "errors" in payload:
            assert payload["errors"] == [], payload
    return data


async def profile(http: httpx.AsyncClient, username: str) -> dict[str, Any]:
    user: dict[str, Any] = (await ok(http, PROFILE, username=username))["user"]
    return user


async def sign_up(http: httpx.AsyncClient, settings: Settings, name: str) -> dict[str, str]:
    headers = bearer(settings, f"id-{name}")
    payload = await create_profile(http, headers, username=name, displayName=name.title())
    assert payload["errors"] == [], payload
    return headers


async def test_a_warm_profile_page_costs_no_store_round_trip(
    http: httpx.AsyncClient, cached_settings: Settings, store: Store
) -> None:
    alice = await sign_up(http, cached_settings, "alice")
    for n in range(3):
        await create_photo(
            http, alice, images.encode(images.marked_photo(), "JPEG"), caption=f"p{n}"
        )
    await drain(http)  # the posts' fan-out tasks, which would count too
    await profile(http, "alice")  # fills the cache
    before = store.round_trips
    warm = await profile(http, "alice")
    assert store.round_trips == before
    assert [e["node"]["caption"] for e in warm["photos"]["edges"]] == ["p2", "p1", "p0"]


async def test_without_the_cache_every_profile_page_costs_the_same(
    settings: Settings, store: Store
) -> None:
    async with app_client(with_cache(settings, "off"), store) as http:
        alice = await sign_up(http, settings, "alice")
        await create_photo(http, alice, images.encode(images.marked_photo(), "JPEG"))
        await drain(http)
        costs = []
        for _ in range(2):
            before = store.round_trips
            await profile(http, "alice")
            costs.append(store.round_trips - before)
    assert costs[0] == costs[1] > 0


@pytest.mark.slow  # waits seconds for the fold tasks of its counts
async def test_the_writer_reads_every_write_at_once(
    http: httpx.AsyncClient, cached_settings: Settings
) -> None:
    alice = await sign_up(http, cached_settings, "alice")
    bob = await sign_up(http, cached_settings, "bob")
    image = images.encode(images.marked_photo(), "JPEG")
    first = (await create_photo(http, alice, image, caption="first"))["photo"]
    seen = await profile(http, "alice")
    assert (seen["displayName"], seen["followerCount"]) == ("Alice", 0)
    assert (await ok(http, PHOTO, id=first["id"]))["node"]["likeCount"] == 0

    await ok(http, UPDATE_PROFILE, alice, input={"displayName": "Alice A."})
    assert (await profile(http, "alice"))["displayName"] == "Alice A."

    # Counts change when their fold task has run (store/counters.py): its writes
    # to the counter's total pass through the cache like any other write.
    alice_id = to_global_id(models.USER, models.user_key("id-alice"))
    await ok(http, FOLLOW, bob, i={"userId": alice_id})
    await drain(http)
    assert (await profile(http, "alice"))["followerCount"] == 1
    assert (await profile(http, "bob"))["followingCount"] == 1

    await ok(http, LIKE, bob, i={"photoId": first["id"]})
    await drain(http)
    assert (await ok(http, PHOTO, id=first["id"]))["node"]["likeCount"] == 1

    await ok(http, UPDATE_CAPTION, alice, input={"photoId": first["id"], "caption": "edited"})
    assert (await ok(http, PHOTO, id=first["id"]))["node"]["caption"] == "edited"
    assert [e["node"]["caption"] for e in (await profile(http, "alice"))["photos"]["edges"]] == [
        "edited"
    ]

    second = (await create_photo(http, alice, image, caption="second"))["photo"]
    edges = (await profile(http, "alice"))["photos"]["edges"]
    assert [e["node"]["caption"] for e in edges] == ["second", "edited"]

    await ok(http, DELETE_PHOTO, alice, input={"photoId": second["id"]})
    assert [e["node"]["caption"] for e in (await profile(http, "alice"))["photos"]["edges"]] == [
        "edited"
    ]
    assert (await call(http, PHOTO, {"id": second["id"]}))["data"]["node"] is None

    await ok(http, UPDATE_PROFILE, alice, input={"username": "alicia"})
    assert (await call(http, PROFILE, {"username": "alice"}))["data"]["user"] is None
    assert (await profile(http, "alicia"))["displayName"] == "Alice A."


async def test_two_instances_sharing_one_redis_read_each_others_writes(
    settings: Settings, store: Store, redis_url: str
) -> None:
    shared = with_cache(settings, "redis", redis_url)
    # B serves GraphQL only: one process may run the embedded store's queue and
    # scheduler (A's lifespan), as one instance among several would on App Engine.
    b_app = create_app(shared, store=store)
    b_transport = httpx.ASGITransport(app=b_app)
    try:
        async with (
            app_client(shared, store) as a,
            httpx.AsyncClient(transport=b_transport, base_url="http://b") as b,
        ):
            alice = await sign_up(a, shared, "alice")
            bob = await sign_up(a, shared, "bob")
            image = images.encode(images.marked_photo(), "JPEG")
            photo = (await create_photo(a, alice, image, caption="old"))["photo"]
            await drain(a)
            assert (await profile(b, "alice"))["followerCount"] == 0  # B fills the cache
            assert (await ok(b, PHOTO, id=photo["id"]))["node"]["caption"] == "old"

            alice_id = to_global_id(models.USER, models.user_key("id-alice"))
            await ok(a, FOLLOW, bob, i={"userId": alice_id})
            await ok(a, UPDATE_PROFILE, alice, input={"displayName": "Renamed"})
            await ok(a, UPDATE_CAPTION, alice, input={"photoId": photo["id"], "caption": "new"})
            seen = await profile(b, "alice")
            assert seen["displayName"] == "Renamed"
            assert [e["node"]["caption"] for e in seen["photos"]["edges"]] == ["new"]
            assert (await ok(b, PHOTO, id=photo["id"]))["node"]["caption"] == "new"
            await drain(a)  # the follow's count, folded by A's task
            assert (await profile(b, "alice"))["followerCount"] == 1
    finally:
        await b_app.state.store.cache.close()  # B had no lifespan to close it
