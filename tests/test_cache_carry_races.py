"""Carried feed pages (cache/carried_pages.py) under races: a put of FeedItems
carries the viewer's cached first page to the next generation in the in-process
cache, and no interleaving of fan-outs, deletes and readers may leave a page that
misses an item whose put completed, or shows one whose delete did. Port calls go
in turns (tests/utils/cache_turns.py), stepped by hypothesis or step by step."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cache.memory import MemoryCache
from cache.store import CachedStore
from store import models, social_models
from store.port import Entity, Query, Store
from tests.utils.cache_turns import (
    EXAMPLES,
    Turns,
    TurnStore,
    drawn_choices,
    photo,
    release,
    run_chosen,
    turn_cache,
)

_owners = itertools.count()  # a viewer of its own for each run


def feed_item(viewer: str, n: int) -> Entity:
    """A FeedItem of photo `n`, sorted by it: a higher `n` is newer."""
    item = social_models.feed_item(viewer, photo(f"owner{n}", "").key, f"s{n}")
    return Entity(item.key, {**item.properties, "caption": f"i{n}"})


@pytest.mark.slow
@EXAMPLES
@given(
    data=st.data(),
    readers=st.integers(1, 3),
    added=st.lists(st.sampled_from([0, 2, 4, 6, 7]), min_size=1, max_size=3, unique=True),
)
async def test_a_feed_page_carried_across_fan_outs_shows_what_they_added(
    store: Store, data: st.DataObject, readers: int, added: list[int]
) -> None:
    """Fan-outs put new FeedItems (newer than the cached page, inside it, past its
    end) while readers read the viewer's first page through the in-process cache,
    which carries the page across each put: every read is the store's first page
    with every item whose put completed before the read began, and later reads see
    them all. Items 1, 3 and 5 are there from the start; the page holds 2."""
    viewer = f"race-{next(_owners)}"
    await store.put_many([feed_item(viewer, n) for n in (1, 3, 5)])
    cache = MemoryCache(1000)
    turns = Turns()
    cached = CachedStore(TurnStore(store, turns), turn_cache(cache, turns))
    query = Query(
        kind=social_models.FEED_ITEM, order_by="sort_key", ancestor=models.user_key(viewer)
    )

    def first_page(items: set[int]) -> list[str]:
        return [f"i{n}" for n in sorted(items, reverse=True)[:2]]

    async def read() -> list[str]:
        return [str(r.entity.properties["caption"]) for r in await cached.page(query, limit=2)]

    reads: dict[str, tuple[set[int], list[str]]] = {}  # reader -> (puts done at start, read)
    done: set[int] = set()

    def reader(name: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            before = set(done)
            reads[name] = (before, await read())

        return run

    def writer(n: int) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await cached.put_many([feed_item(viewer, n)])
            done.add(n)

        return run

    actors = {f"w{n}": writer(n) for n in added}
    actors.update({f"r{i}": reader(f"r{i}") for i in range(readers)})
    tasks: dict[str, asyncio.Task[Any]] = {}
    choose = drawn_choices(data)
    try:
        await run_chosen(turns, tasks, actors, choose)
        for name, (before, seen) in reads.items():
            # What the store held at some moment of the read: the items there from
            # the start, every put done before it began, and maybe some that were not.
            late = set(added) - before
            moments = [
                first_page({1, 3, 5} | before | {n for n in late if mask >> n & 1})
                for mask in range(1 << 8)
            ]
            assert seen in moments, (name, before, seen)
        final = first_page({1, 3, 5, *added})
        for attempt in range(2):  # nothing stale left behind, read from the cache or not
            tasks[f"final{attempt}"] = turns.start(f"final{attempt}", read())
            await run_chosen(turns, tasks, {}, choose)
            assert tasks[f"final{attempt}"].result() == final
        assert cached.hits >= 1  # the second final read, at least, came from the cache
    finally:
        await release(turns, tasks)
        await cache.close()


async def _steps(turns: Turns, steps: list[tuple[str, Awaitable[Any] | None]]) -> None:
    """Starts (with its work) or lets on one step (None) each actor in that order."""
    tasks: dict[str, asyncio.Task[Any]] = {}
    try:
        for actor, work in steps:
            if work is not None:
                tasks[actor] = turns.start(actor, work)
                await turns.settle(actor, tasks[actor])
            else:
                await turns.grant(actor, tasks[actor])
        assert all(task.done() for task in tasks.values())
        await asyncio.gather(*tasks.values())
    finally:
        await release(turns, tasks)


async def _warm_feed(store: Store) -> tuple[CachedStore, Turns, Query, str]:
    """A viewer's feed of item 1, its first page cached, behind turns from now on."""
    viewer = f"race-{next(_owners)}"
    await store.put_many([feed_item(viewer, 1)])
    turns = Turns()
    turns.free = True
    cached = CachedStore(TurnStore(store, turns), turn_cache(MemoryCache(1000), turns))
    query = Query(
        kind=social_models.FEED_ITEM, order_by="sort_key", ancestor=models.user_key(viewer)
    )
    await cached.page(query, limit=2)
    turns.free = False
    return cached, turns, query, viewer


async def _captions(cached: CachedStore, query: Query) -> list[str]:
    return [str(r.entity.properties["caption"]) for r in await cached.page(query, limit=2)]


async def test_two_puts_of_one_item_carried_out_of_their_order(store: Store) -> None:
    """Two puts of one FeedItem land in one order and carry in the other: the
    second carry must not put back what the store no longer holds."""
    cached, turns, query, viewer = await _warm_feed(store)
    first, second = feed_item(viewer, 2), feed_item(viewer, 2)
    first.properties = {**first.properties, "caption": "first"}
    second.properties = {**second.properties, "caption": "second"}
    await _steps(
        turns,
        [
            ("a", cached.put_many([first])),
            ("b", cached.put_many([second])),
            ("a", None),  # looks up the generation
            ("b", None),
            ("a", None),  # lands
            ("b", None),  # lands: the store holds "second"
            ("b", None),  # carries "second" into the page
            ("a", None),  # carries "first": no, the generation changed since it looked
        ],
    )
    turns.free = True
    assert await _captions(cached, query) == ["second", "i1"]


async def test_a_put_carried_after_a_delete_and_a_fill(store: Store) -> None:
    """A prune deletes the item a fan-out just put, before the fan-out's carry,
    and a read fills the page without it: the carry must not bring it back."""
    cached, turns, query, viewer = await _warm_feed(store)
    item = feed_item(viewer, 2)
    reads: list[list[str]] = []

    async def read() -> None:
        reads.append(await _captions(cached, query))

    await _steps(
        turns,
        [
            ("put", cached.put_many([item])),
            ("put", None),  # looks up the generation
            ("put", None),  # lands
            ("delete", cached.delete_many([item.key])),
            ("delete", None),  # deleted
            ("delete", None),  # invalidated
            ("read", read()),
            ("read", None),  # looks up the new generation
            ("read", None),  # reads the page: item 1 only
            ("read", None),  # fills it
            ("put", None),  # carries: no, the generation changed since it looked
        ],
    )
    turns.free = True
    assert reads == [["i1"]]
    assert await _captions(cached, query) == ["i1"]


async def test_two_fan_outs_carried_across_each_other_keep_the_page(store: Store) -> None:
    """Two fan-outs of different photos to one viewer look, land, then carry in
    the other order: each carry follows the other's (of other keys), so the page
    stays cached with both, and the next read costs no store call."""
    cached, turns, query, viewer = await _warm_feed(store)
    await _steps(
        turns,
        [
            ("a", cached.put_many([feed_item(viewer, 2)])),
            ("b", cached.put_many([feed_item(viewer, 3)])),
            ("a", None),  # looks up the generation
            ("b", None),
            ("a", None),  # lands
            ("b", None),
            ("b", None),  # carries item 3 into the page
            ("a", None),  # carries item 2 after it
        ],
    )
    turns.free = True
    before = store.round_trips
    assert await _captions(cached, query) == ["i3", "i2"]
    assert store.round_trips == before
