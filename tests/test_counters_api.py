"""Counts through the real app, on both stores: exact under many likes and unlikes
at once while a counter's folds overlap, shards left by the code before one
entity per counter counted from the first request, and a home page reading one
key a count."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from resolvers import follows, likes
from settings import Settings
from settings.cache import CacheSettings
from store import counters, models, social_models
from store.errors import StoreUnavailable
from store.keys import Key
from store.port import Entity, Query, Result, Store
from tasks.counters import fold_deltas, fold_legacy_shards
from tests.test_counters import legacy_shard
from tests.test_social import FOLLOW, LIKE, UNLIKE, mutate, pid, uid
from tests.utils.accounts import bearer, call
from tests.utils.builders import make_photos, make_user
from tests.utils.clients import app_client
from tests.utils.delegating_store import DelegatingStore
from tests.utils.draining import app_of, drain

PHOTO = """query($id: ID!) { node(id: $id) { ... on Photo { likeCount } } }"""
USER = """query($id: ID!) { node(id: $id) { ... on User { followerCount } } }"""
# benchmarks/bench_http.py's side (c)
HOME = """query($n: Int) { viewer { feed(first: $n) {
  edges { cursor node { id caption width height likeCount commentCount viewerHasLiked
                        owner { username } } }
  pageInfo { hasNextPage endCursor } } } }"""


async def like_count(http: httpx.AsyncClient, photo: models.Photo) -> int:
    body = await call(http, PHOTO, {"id": pid(photo)})
    count: int = body["data"]["node"]["likeCount"]
    return count


async def test_many_likes_and_unlikes_at_once_with_overlapping_folds_count_exactly(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    """Every fan likes the photo, every other one unlikes it again, all at once,
    while the counter's folds overlap: its bucket tasks in the app's queue, and
    more of them started here (a next bucket's task, a retry) through the app's
    store, so that the cache sees their writes. No change is lost or counted twice."""
    owner = await make_user(store, "owner")
    [photo] = await make_photos(store, owner, 1)
    fans = [await make_user(store, f"fan{n}") for n in range(24)]
    name = likes.like_counter(photo.key)
    app_store: Store = app_of(client).state.store

    async def fan(n: int, user: models.User) -> None:
        await mutate(client, LIKE, bearer(settings, user.id), photoId=pid(photo))
        if n % 2:
            await mutate(client, UNLIKE, bearer(settings, user.id), photoId=pid(photo))

    async def folds() -> None:
        for _ in range(4):
            await fold_deltas(app_store, name, datetime.now(UTC))
            await asyncio.sleep(0.01)

    await asyncio.gather(
        *(fan(n, user) for n, user in enumerate(fans)), *(folds() for _ in range(4))
    )
    await asyncio.gather(*(fold_deltas(app_store, name, datetime.now(UTC)) for _ in range(4)))
    await drain(client)
    assert await like_count(client, photo) == 12
    assert await store.page(counters.deltas_of(name), limit=10) == []
    liked = await store.get_many([social_models.like_key(f.id, photo.key) for f in fans])
    assert [entity is not None for entity in liked] == [n % 2 == 0 for n in range(24)]


async def test_shards_left_by_the_old_code_count_from_the_first_request(
    store: Store, settings: Settings
) -> None:
    owner = await make_user(store, "owner")
    [photo] = await make_photos(store, owner, 1)
    when = datetime(2030, 6, 1, tzinfo=UTC)
    like_name = likes.like_counter(photo.key)
    follower_name = counters.counter_name(follows.FOLLOWERS, owner.key)
    await store.put_many(
        [
            counters.total_entity(like_name, 40, when),
            legacy_shard(like_name, 1, 2),
            legacy_shard(like_name, 6, 1),
            legacy_shard(follower_name, 3, 5),  # no total yet
        ]
    )
    async with app_client(settings, store) as http:
        assert await like_count(http, photo) == 43
        body = await call(http, USER, {"id": uid(owner)})
        assert body["data"]["node"]["followerCount"] == 5
    assert await store.page(counters.pending_shards(), limit=10) == []


class ShardQueriesFail(DelegatingStore):
    """The real store, except that a query for counter shards fails, as a
    Datastore that does not answer while a process starts."""

    async def page(self, query: Query, **bounds: Any) -> list[Result]:
        if query.kind == counters.SHARD_KIND:
            raise StoreUnavailable("the datastore did not answer")
        return await self.inner.page(query, **bounds)


async def test_a_start_whose_legacy_fold_fails_serves_and_leaves_it_to_the_cron_job(
    store: Store, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    owner = await make_user(store, "owner")
    [photo] = await make_photos(store, owner, 1)
    name = likes.like_counter(photo.key)
    when = datetime(2030, 6, 1, tzinfo=UTC)
    await store.put_many([counters.total_entity(name, 40, when), legacy_shard(name, 1, 2)])
    async with app_client(settings, ShardQueriesFail(store)) as http:
        assert await like_count(http, photo) == 40  # low until the cron job's run
    assert "fold_counters cron job folds them" in caplog.text
    await fold_legacy_shards(store, when)
    async with app_client(settings, store) as http:
        assert await like_count(http, photo) == 42


class KeysRead(DelegatingStore):
    """The real store, counting the keys asked for by key (outside transactions)."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.keys = 0

    async def get_many(self, keys: Sequence[Key]) -> list[Entity | None]:
        self.keys += len(keys)
        return await self.inner.get_many(keys)


async def test_a_home_page_reads_one_key_a_count(store: Store, settings: Settings) -> None:
    """A page of 20 from two followees: the photos, the follow edges, the owners,
    the viewer's likes, and one key for each of the 40 counts (284 keys when a
    count was a total and its shards: 9 for likes, 3 for comments)."""
    viewer, *followees = [await make_user(store, name) for name in ("alice", "bob", "carol")]
    counted = KeysRead(store)
    # No cache: every key the page asks for reaches the store.
    uncached = dataclasses.replace(settings, cache=CacheSettings(backend="off"))
    async with app_client(uncached, counted) as http:
        photos: list[models.Photo] = []
        for followee in followees:
            await mutate(http, FOLLOW, bearer(settings, viewer.id), userId=uid(followee))
            photos += await make_photos(store, followee, 10, start=len(photos))
        feed = [social_models.feed_item(viewer.id, p.key, p.sort_key) for p in photos]
        await store.put_many(feed)
        await drain(http)
        before = counted.keys
        body = await call(http, HOME, {"n": 20}, bearer(settings, viewer.id))
        assert len(body["data"]["viewer"]["feed"]["edges"]) == 20
        assert counted.keys - before == 20 + 2 + 2 + 20 + 40
