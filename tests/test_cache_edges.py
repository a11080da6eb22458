"""Follow edges through the cache, on both stores and both cache adapters: a home page
reads the viewer's edges from the cache, yet an unfollow hides its owner's items at
once, and the background tasks that act on an edge read it from the store even while
the cache still holds it (between a commit and its invalidation, or on a Redis this
process could not reach)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from cache.memory import MemoryCache
from cache.store import CachedStore
from resolvers.feed import feed_query
from settings import Settings
from store import social_models
from store.port import Result, Store
from taskqueue.context import TaskInfo
from taskqueue.port import DEFAULT_QUEUE
from tasks.feed import fanout_photo, prune_feed
from tasks.runtime import TaskRuntime
from tests.test_cache import cached_settings, http, ok
from tests.test_cache_feed import ALICE, UNFOLLOW, bob_following_alice, home
from tests.utils.contexts import app_task_context
from tests.utils.draining import app_of

__all__ = ["cached_settings", "http"]  # the fixtures, shared with tests/test_cache.py


async def feed_of(store: Store, user_id: str) -> list[Result]:
    """The user's FeedItems as the store holds them, newest first."""
    return await store.page(feed_query(user_id), limit=50)


async def test_an_unfollow_hides_the_owners_items_from_the_very_next_page(
    http: httpx.AsyncClient, cached_settings: Settings, store: Store
) -> None:
    _, bob = await bob_following_alice(http, cached_settings, "first")
    assert [p["caption"] for p in await home(http, bob)] == ["first"]  # the edge is cached
    tasks: TaskRuntime = app_of(http).state.tasks
    await tasks.admin.pause(DEFAULT_QUEUE)  # the unfollow's prune task waits
    await ok(http, UNFOLLOW, bob, i={"userId": ALICE})
    assert len(await feed_of(store, "id-bob")) == 1  # still in bob's feed: hidden only
    assert await home(http, bob) == []
    await tasks.admin.resume(DEFAULT_QUEUE)


async def test_feed_tasks_see_an_unfollow_the_cache_has_not_heard_of(
    http: httpx.AsyncClient, cached_settings: Settings, store: Store
) -> None:
    # The fan-outs, and the fan-in that wrote alice's Follower half, have run.
    _, bob = await bob_following_alice(http, cached_settings, "first", "second")
    assert [p["caption"] for p in await home(http, bob)] == ["second", "first"]
    # bob's edge is cached now. Unfollow in the store alone (`store` is beneath the
    # app's cache): as if the commit had happened and its invalidation had not.
    await store.delete_many([social_models.following_key("id-bob", "id-alice")])
    assert [p["caption"] for p in await home(http, bob)] == ["second", "first"]
    second, first = await feed_of(store, "id-bob")

    # A fan-out of the second photo still finds bob among alice's followers (her
    # half is written later, by the fan-in); it writes his item, then undoes it.
    photo = social_models.parse_photo_ref(second.entity.key.name)
    fan_out = TaskInfo("fanout_photo", "default", "again")
    payload = {"photo": photo.encode(), "sort_key": second.position.value}
    await fanout_photo(payload, app_task_context(http, fan_out))
    assert [r.entity.key for r in await feed_of(store, "id-bob")] == [first.entity.key]

    prune = TaskInfo("prune_feed", "default", "prune")
    await prune_feed({"follower": "id-bob", "followee": "id-alice"}, app_task_context(http, prune))
    assert await feed_of(store, "id-bob") == []


async def test_reads_past_the_cache_see_the_store_and_writes_still_invalidate(
    store: Store,
) -> None:
    cached = CachedStore(store, MemoryCache(100))
    background = cached.past_the_cache()
    edge = social_models.edge_entity(
        social_models.following_key("a", "b"), "b", datetime(2026, 11, 30, tzinfo=UTC)
    )
    key = edge.key
    assert await cached.get_many([key]) == [None]  # an absence, cached
    await store.put_many([edge])  # committed; the cache was not told
    assert await cached.get_many([key]) == [None]
    assert await background.get_many([key]) == [edge]
    before = store.round_trips
    await background.delete_many([key])
    await background.put_many([edge])  # through the cache: it ends the cached absence
    assert await cached.get_many([key]) == [edge]
    assert store.round_trips - before == 3  # delete, put, and the read after them
    await background.close()  # leaves the cached store open: its owner closes it
    assert await cached.get_many([key]) == [edge]
