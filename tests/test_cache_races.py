"""Fills racing invalidations, in every order hypothesis can find: once a write
has completed, no read that starts afterwards returns what it replaced, and no
stale value is left behind for later reads. The entity raced is a photo (by key
or its owner's first page), a home feed's FeedItem (its first page) or a Like
(by key, from a cached absence: "not liked").

Every call through the cache port and the store port waits for its turn; the test
draws whose turn comes next (or which actor starts), so each port call is one
step and the steps of writers and readers interleave in any order. The cache and
the store are real (both cache adapters, both store adapters); only the turns are
added, through the ports.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cache.memory import MemoryCache
from cache.port import Cache
from cache.redis import RedisCache
from cache.store import CachedStore
from store import models, social_models
from store.port import Entity, Query, Store
from store.sqlite import SQLiteStore
from tests.utils.cache_turns import (
    EXAMPLES,
    Choose,
    Schedules,
    Turns,
    TurnStore,
    drawn_choices,
    photo,
    release,
    run_chosen,
    turn_cache,
)

_owners = itertools.count()  # a photo of its own for each run


@pytest.fixture(params=["memory", "redis"])
def make_cache(request: pytest.FixtureRequest) -> Callable[[], Cache]:
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        return lambda: RedisCache(url)
    return lambda: MemoryCache(1000)


def written(kind: str, owner: str, caption: str) -> Entity:
    """What a writer of `kind` puts in `owner`'s group: a photo; a FeedItem of the
    fan-out (read as the first page of the owner's home feed); a Like, which the
    race starts without (readers then see a cached absence: "v0")."""
    if kind == models.PHOTO:
        return photo(owner, caption)
    shown = photo("someone", "").key
    keyed = (
        social_models.feed_item_key if kind == social_models.FEED_ITEM else social_models.like_key
    )
    return Entity(keyed(owner, shown), {"caption": caption, "sort_key": "s", "owner_id": "someone"})


async def race(
    store: Store,
    cache: Cache,
    *,
    writers: int,
    readers: int,
    by_key: bool,
    choose: Choose,
    kind: str = models.PHOTO,
) -> None:
    """Writers and readers of one entity of `kind` (by key, or as the first page of
    its owner's entities of that kind), stepped in the order `choose` picks; then
    checks what every read saw."""
    owner = f"race-{next(_owners)}"
    if kind != social_models.LIKE:
        await store.put_many([written(kind, owner, "v0")])
    turns = Turns()
    inner = TurnStore(store, turns)
    cached = CachedStore(inner, turn_cache(cache, turns))
    key = written(kind, owner, "").key
    query = Query(kind=kind, order_by="sort_key", ancestor=models.user_key(owner))

    async def read() -> str:
        if by_key:
            [found] = await cached.get_many([key])
            return "v0" if found is None else str(found.properties["caption"])
        [first] = await cached.page(query, limit=2)
        return str(first.entity.properties["caption"])

    reads: dict[str, tuple[int, str]] = {}  # reader -> (turn it started at, value read)
    completed: dict[str, int] = {}  # writer -> turn its write completed at

    def reader(name: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            started = turns.granted
            reads[name] = (started, await read())

        return run

    def writer(name: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await cached.put_many([written(kind, owner, name)])
            completed[name] = turns.granted

        return run

    actors = {f"w{i}": writer(f"w{i}") for i in range(writers)}
    actors.update({f"r{i}": reader(f"r{i}") for i in range(readers)})
    tasks: dict[str, asyncio.Task[Any]] = {}
    try:
        await run_chosen(turns, tasks, actors, choose)
        order = ["v0", *inner.landed]  # values in the order their writes landed
        for name, (started, value) in reads.items():
            done_before = [order.index(w) for w, at in completed.items() if at <= started]
            assert order.index(value) >= max(done_before, default=0), (name, value, order)
        # Nothing stale was left behind either: later reads see the last write.
        for attempt in range(2):
            tasks[f"final{attempt}"] = turns.start(f"final{attempt}", read())
            await run_chosen(turns, tasks, {}, choose)
            assert tasks[f"final{attempt}"].result() == order[-1], order
    finally:  # a failed run lets its actors finish (a write's invalidation waits too)
        await release(turns, tasks)


@EXAMPLES
@given(
    data=st.data(),
    readers=st.integers(1, 4),
    writers=st.integers(1, 2),
    by_key=st.booleans(),
    kind=st.sampled_from([models.PHOTO, social_models.FEED_ITEM, social_models.LIKE]),
)
async def test_no_read_after_a_completed_write_sees_what_it_replaced(
    store: Store,
    make_cache: Callable[[], Cache],
    data: st.DataObject,
    readers: int,
    writers: int,
    by_key: bool,
    kind: str,
) -> None:
    by_key = by_key or kind == social_models.LIKE  # a like is read by key only
    cache = make_cache()
    try:
        await race(
            store,
            cache,
            writers=writers,
            readers=readers,
            by_key=by_key,
            choose=drawn_choices(data),
            kind=kind,
        )
    finally:
        await cache.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("by_key", "kind"),
    [
        (True, models.PHOTO),
        (False, models.PHOTO),
        (True, social_models.LIKE),  # from a cached absence (hypothesis draws feed pages)
    ],
    ids=["by_key", "first_page", "like"],
)
async def test_every_interleaving_of_two_fills_and_a_write(
    tmp_path: Path, by_key: bool, kind: str
) -> None:
    """Exhaustive for two readers and one writer: every order of their port calls."""
    store = SQLiteStore(tmp_path / "races.db")
    schedules = Schedules()
    try:
        while schedules.next():
            cache = MemoryCache(1000)
            await race(
                store,
                cache,
                writers=1,
                readers=2,
                by_key=by_key,
                choose=schedules.choose,
                kind=kind,
            )
    finally:
        await store.close()
    assert schedules.runs > 1000
