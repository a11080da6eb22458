"""The in-process cache replays a lookup of many slots that it ran before, while
nothing in it changed since (cache/memory.py): a warm home page looks its ~100
keys up in one step, and a replay touches and finds exactly what the lookup
would have."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import httpx
import pytest

from app import create_app
from cache.memory import REPLAYED_SLOTS, MemoryCache
from cache.port import Fill, Found, Slot
from cache.store import CachedStore
from settings import Settings
from store.port import Store
from tests.test_cache import FOLLOW, ok, sign_up, with_cache
from tests.test_cache_feed import ALICE, home, post
from tests.utils.clients import serving
from tests.utils.draining import SkippingClock, drain


def page_of_slots(count: int) -> list[Slot]:
    """Slots as a home page's: most of a generation of their own, some (a
    counter's) sharing one."""
    return [
        Slot(f"c:{n // 3}", f"e:{n}") if n % 4 == 0 else Slot(f"e:{n}", f"e:{n}")
        for n in range(count)
    ]


async def lookup(cache: MemoryCache, slots: list[Slot], *, whole: bool) -> list[Found]:
    """The slots looked up in one lookup, or in lookups too small to replay:
    the same reads, in the same order."""
    if whole:
        return await cache.lookup(slots)
    return [found for slot in slots for found in await cache.lookup([slot])]


def state(cache: MemoryCache) -> tuple[list[tuple[int, str]], int]:
    # The entries in LRU order (what an eviction takes first) and their weight.
    return list(cache._entries), cache.weight


@pytest.mark.parametrize("seed", range(6))
async def test_a_replay_touches_and_finds_what_the_lookup_would(seed: int) -> None:
    """Two caches given the same operations, one looking a page's slots up whole
    (replayed when nothing changed), the other one by one (never replayed): the
    same values found, the same entries in the same LRU order, through fills,
    invalidations and evictions (the caches are too small for every slot)."""
    rng = random.Random(seed)
    pages = [page_of_slots(30), page_of_slots(30)[5:20]]  # each list the same objects
    whole, single = MemoryCache(max_entries=50), MemoryCache(max_entries=50)
    seen: dict[bool, list[Found]] = {}
    for step in range(300):
        choice = rng.random()
        if choice < 0.6:
            slots = rng.choice(pages)
            for replayed in (True, False):
                cache = whole if replayed else single
                seen[replayed] = await lookup(cache, slots, whole=replayed)
            assert [f.value for f in seen[True]] == [f.value for f in seen[False]], step
            last = slots
        elif choice < 0.8 and seen:
            picked = rng.sample(range(len(last)), 3)
            for replayed in (True, False):
                cache = whole if replayed else single
                fills = [
                    Fill(last[at], generation, f"value {step}")
                    for at in picked
                    if (generation := seen[replayed][at].generation) is not None
                ]
                await cache.fill(fills)
        else:
            generation = rng.choice(pages[0]).generation
            await whole.invalidate([generation])
            await single.invalidate([generation])
        assert state(whole) == state(single), step
    assert whole.replayed > 0  # the comparison covered replays


async def test_only_an_unchanged_cache_replays_the_same_slots() -> None:
    cache = MemoryCache(100)
    slots = page_of_slots(REPLAYED_SLOTS)
    first = await cache.lookup(slots)  # makes their generations: a change
    assert (await cache.lookup(slots), cache.replayed) == (first, 0)
    assert (await cache.lookup(slots), cache.replayed) == (first, 1)
    await cache.fill([Fill(slots[1], first[1].generation or "", "v")])
    found = await cache.lookup(slots)  # changed since: looked up slot by slot
    assert (found[1].value, cache.replayed) == ("v", 1)
    assert (await cache.lookup(slots), cache.replayed) == (found, 2)
    # Equal slots that are other objects, or fewer slots than REPLAYED_SLOTS: looked up.
    assert (await cache.lookup(page_of_slots(REPLAYED_SLOTS)), cache.replayed) == (found, 2)
    assert (await cache.lookup(slots[:-1]), cache.replayed) == (found[:-1], 2)
    assert (await cache.lookup(slots[:-1]), cache.replayed) == (found[:-1], 2)
    await cache.invalidate([slots[1].generation])
    found = await cache.lookup(slots)
    assert (found[1].value, cache.replayed) == (None, 2)


@pytest.fixture
async def app_and_http(
    settings: Settings, store: Store
) -> AsyncIterator[tuple[MemoryCache, httpx.AsyncClient]]:
    app = create_app(with_cache(settings, "memory"), store=store, clock=SkippingClock())
    cached = app.state.store
    assert isinstance(cached, CachedStore)
    assert isinstance(cached.cache, MemoryCache)
    async with serving(app) as http:
        yield cached.cache, http


async def test_a_warm_home_page_looks_its_keys_up_in_one_replay(
    app_and_http: tuple[MemoryCache, httpx.AsyncClient], settings: Settings, store: Store
) -> None:
    cache, http = app_and_http
    alice = await sign_up(http, settings, "alice")
    bob = await sign_up(http, settings, "bob")
    await ok(http, FOLLOW, bob, i={"userId": ALICE})
    for n in range(3):
        await post(http, alice, f"photo {n}")
    await drain(http)
    assert len(await home(http, bob)) == 3  # fills what it misses
    assert len(await home(http, bob)) == 3  # looks up what it filled
    before = (cache.looked_up, cache.replayed, store.round_trips)
    assert [p["caption"] for p in await home(http, bob)] == [f"photo {n}" for n in (2, 1, 0)]
    # One slot looked up (the page's), the photos, owner, follow edge, likes and
    # counts (3 + 1 + 1 + 3 x 3 = 14) replayed, nothing read from the store.
    after = (cache.looked_up, cache.replayed, store.round_trips)
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 0]
