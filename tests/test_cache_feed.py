"""The home feed through the cache, on both stores and both cache adapters: a warm
page costs no round trip, and what the background tasks and the like mutations
write is on the next page read."""

from __future__ import annotations

from typing import Any

import httpx

from resolvers.node_ids import to_global_id
from settings import Settings
from store import models
from store.port import Store
from tests.test_cache import FOLLOW, cached_settings, http, ok, sign_up, with_cache

__all__ = ["cached_settings", "http"]  # the fixtures, shared with tests/test_cache.py
from tests.utils import images
from tests.utils.clients import app_client
from tests.utils.draining import drain
from tests.utils.uploads import create_photo

HOME = """{ viewer { feed(first: 20) { edges { node {
  id caption likeCount commentCount viewerHasLiked owner { username } } } } } }"""
UNFOLLOW = """mutation($i: FollowInput!) { unfollow(input: $i) { errors { code } } }"""
LIKE = """mutation($i: LikeInput!) { likePhoto(input: $i) { errors { code } } }"""
ALICE = to_global_id(models.USER, models.user_key("id-alice"))
UNLIKE = """mutation($i: LikeInput!) { unlikePhoto(input: $i) { errors { code } } }"""


async def home(http: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    feed = (await ok(http, HOME, headers))["viewer"]["feed"]
    return [edge["node"] for edge in feed["edges"]]


async def post(http: httpx.AsyncClient, headers: dict[str, str], caption: str) -> str:
    image = images.encode(images.marked_photo(), "JPEG")
    photo_id: str = (await create_photo(http, headers, image, caption=caption))["photo"]["id"]
    return photo_id


async def bob_following_alice(
    http: httpx.AsyncClient, settings: Settings, *captions: str
) -> tuple[dict[str, str], dict[str, str]]:
    """alice's and bob's headers, once bob follows alice and her posts of `captions`
    are fanned out (a FeedItem under bob each)."""
    alice = await sign_up(http, settings, "alice")
    bob = await sign_up(http, settings, "bob")
    await ok(http, FOLLOW, bob, i={"userId": ALICE})
    for caption in captions:
        await post(http, alice, caption)
    await drain(http)
    return alice, bob


async def test_a_warm_home_page_shows_what_the_fan_out_wrote_since(
    http: httpx.AsyncClient, cached_settings: Settings, store: Store
) -> None:
    alice, bob = await bob_following_alice(http, cached_settings, "first")
    assert [p["caption"] for p in await home(http, bob)] == ["first"]
    before = store.round_trips
    assert [p["caption"] for p in await home(http, bob)] == ["first"]
    # The page, the photos, owners, counts, likes and the viewer's follow edges
    # (which hide an unfollowed owner's items) all come from the cache.
    assert store.round_trips == before

    await post(http, alice, "second")
    await drain(http)
    assert [p["caption"] for p in await home(http, bob)] == ["second", "first"]

    # Unfollowing hides the items at once; the prune task then deletes them,
    # and a new follow's backfill writes them again.
    await ok(http, UNFOLLOW, bob, i={"userId": ALICE})
    await drain(http)
    assert await home(http, bob) == []
    await ok(http, FOLLOW, bob, i={"userId": ALICE})
    await drain(http)
    assert [p["caption"] for p in await home(http, bob)] == ["second", "first"]


async def test_viewer_has_liked_flips_with_each_like_and_unlike(
    http: httpx.AsyncClient, cached_settings: Settings
) -> None:
    alice = await sign_up(http, cached_settings, "alice")
    bob = await sign_up(http, cached_settings, "bob")
    await ok(http, FOLLOW, bob, i={"userId": ALICE})
    photo_id = await post(http, alice, "liked")
    await drain(http)
    for _ in range(2):  # the second read is from the cache: "not liked" is cached
        assert [p["viewerHasLiked"] for p in await home(http, bob)] == [False]
    # A mutation answers after its invalidation: its client's next read sees it.
    await ok(http, LIKE, bob, i={"photoId": photo_id})
    assert [p["viewerHasLiked"] for p in await home(http, bob)] == [True]
    assert [p["viewerHasLiked"] for p in await home(http, alice)] == [False]
    await ok(http, UNLIKE, bob, i={"photoId": photo_id})
    assert [p["viewerHasLiked"] for p in await home(http, bob)] == [False]
    await ok(http, LIKE, bob, i={"photoId": photo_id})
    assert [p["viewerHasLiked"] for p in await home(http, bob)] == [True]


async def test_without_the_cache_a_home_page_costs_its_query_and_one_get(
    settings: Settings, store: Store
) -> None:
    async with app_client(with_cache(settings, "off"), store) as http:
        _, bob = await bob_following_alice(http, settings, "first", "second")
        before = store.round_trips
        nodes = await home(http, bob)
    assert [(p["caption"], p["likeCount"], p["viewerHasLiked"]) for p in nodes] == [
        ("second", 0, False),
        ("first", 0, False),
    ]
    # The FeedItems, then the photos, edges, owners, likes and counts in one get:
    # no field of the page reads anything again.
    assert store.round_trips - before == 2


async def test_a_fan_out_carries_the_warm_home_page_in_process(
    http: httpx.AsyncClient, cached_settings: Settings, store: Store
) -> None:
    """The in-process cache puts the fan-out's FeedItem into the viewer's cached
    page: the next home page reads only what it had not cached (the new photo and
    its counts, with the follow edges in the same get). Redis invalidates, and the
    page is read again."""
    alice = await sign_up(http, cached_settings, "alice")
    bob = await sign_up(http, cached_settings, "bob")
    await ok(http, FOLLOW, bob, i={"userId": ALICE})
    await post(http, alice, "first")
    await drain(http)
    assert [p["caption"] for p in await home(http, bob)] == ["first"]
    await post(http, alice, "second")
    await drain(http)
    before = store.round_trips
    assert [p["caption"] for p in await home(http, bob)] == ["second", "first"]
    carried = cached_settings.cache.backend == "memory"
    assert store.round_trips - before == (1 if carried else 2)
    before = store.round_trips
    assert [p["caption"] for p in await home(http, bob)] == ["second", "first"]
    assert store.round_trips - before == 0  # everything cached, the follow edges too
    # An unfollow hides the items at once, and its prune deletes them: a delete
    # is never carried, the page is read again.
    await ok(http, UNFOLLOW, bob, i={"userId": ALICE})
    assert await home(http, bob) == []
    await drain(http)
    assert await home(http, bob) == []
