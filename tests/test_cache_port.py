"""The cache port's contract on both adapters (an in-process LRU and a real
redis-server), and the guard that keeps a failing cache from failing a request."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence

import pytest

from cache.guard import GuardedCache
from cache.memory import MemoryCache
from cache.port import MISS, Cache, Fill, Found, Slot
from cache.redis import RedisCache
from tests.utils.processes import free_port

USER = Slot("e:User/u1", "e:User/u1")
PAGE_12 = Slot("q:Photo:User/u1", "q:Photo:User/u1:sort_key:desc:13")
PAGE_20 = Slot("q:Photo:User/u1", "q:Photo:User/u1:sort_key:desc:21")


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    adapter: Cache
    if request.param == "redis":
        adapter = RedisCache(request.getfixturevalue("redis_url"), ttl_seconds=60)
    else:
        adapter = MemoryCache(100)
    yield adapter
    await adapter.close()


async def fill_from_store(cache: Cache, slot: Slot, value: object) -> Found:
    """A reader's miss: the generation first, then the store, then the fill."""
    [seen] = await cache.lookup([slot])
    assert seen.value is None
    assert seen.generation is not None
    await cache.fill([Fill(slot, seen.generation, value)])
    return seen


async def test_a_fill_is_read_back_until_invalidated(cache: Cache) -> None:
    await fill_from_store(cache, USER, b"alice")
    [seen] = await cache.lookup([USER])
    assert seen.value == b"alice"
    await cache.invalidate([USER.generation])
    [after] = await cache.lookup([USER])
    assert after.value is None
    assert after.generation not in (None, seen.generation)


async def test_a_fill_that_lost_the_race_with_a_write_is_never_read(cache: Cache) -> None:
    [seen] = await cache.lookup([USER])  # a reader notes the generation...
    stale = b"read before the write"
    await cache.invalidate([USER.generation])  # ...a write commits and invalidates...
    await cache.fill([Fill(USER, seen.generation or "", stale)])  # ...the reader fills late
    [later] = await cache.lookup([USER])
    assert later.value is None


async def test_pages_of_one_list_share_a_generation(cache: Cache) -> None:
    await fill_from_store(cache, PAGE_12, b"twelve")
    await fill_from_store(cache, PAGE_20, b"twenty")
    assert [f.value for f in await cache.lookup([PAGE_12, PAGE_20, USER])] == [
        b"twelve",
        b"twenty",
        None,
    ]
    await cache.invalidate([PAGE_12.generation])
    assert [f.value for f in await cache.lookup([PAGE_12, PAGE_20])] == [None, None]


async def test_values_are_opaque_bytes(cache: Cache) -> None:
    value = bytes(range(256)) * 3
    await fill_from_store(cache, USER, value)
    assert (await cache.lookup([USER]))[0].value == value


async def test_the_memory_cache_is_bounded_and_forgetting_is_never_stale() -> None:
    cache = MemoryCache(max_entries=4)
    slots = [Slot(f"e:{n}", f"e:{n}") for n in range(10)]
    for n, slot in enumerate(slots):
        await fill_from_store(cache, slot, str(n).encode())
        assert len(cache) <= 4
    await cache.invalidate([slots[-1].generation])
    await fill_from_store(cache, slots[-1], b"9 again")
    # What was evicted is a miss; nothing answers with a value it no longer should.
    assert (await cache.lookup([slots[-1]]))[0].value == b"9 again"
    found = await cache.lookup(slots[:-1])
    assert all(f.value in (None, str(n).encode()) for n, f in enumerate(found))


async def test_the_memory_cache_bounds_what_pages_hold_not_how_many_keys() -> None:
    # A kept page is a tuple of results (cache/frozen.py); 40 pages of 20 would hold
    # 800 results under a bound of 100 if the cache counted keys.
    cache = MemoryCache(max_entries=100)
    slots = [Slot(f"p:{n}", f"p:{n}") for n in range(40)]
    for slot in slots:
        await fill_from_store(cache, slot, tuple(range(20)))
        assert cache.weight <= 100
    assert len(cache) < 20  # four pages and their generations, not forty
    assert (await cache.lookup([slots[-1]]))[0].value == tuple(range(20))
    await cache.invalidate([slots[-1].generation])
    await cache.close()
    assert cache.weight == 0


async def test_redis_values_and_generations_expire(redis_url: str) -> None:
    cache = RedisCache(redis_url, ttl_seconds=60, prefix="t:")
    try:
        await fill_from_store(cache, USER, b"alice")
        ttl = await cache._redis.ttl("t:v:" + USER.value)
        generation_ttl = await cache._redis.ttl("t:g:" + USER.generation)
        assert 0 < ttl <= 60
        assert 60 < generation_ttl <= 120
    finally:
        await cache.close()


class FlakyCache:
    """A cache that fails while `down`, through the port (an outage on demand)."""

    keeps_objects = True  # its inner MemoryCache's

    def __init__(self) -> None:
        self.inner = MemoryCache(100)
        self.down = False
        self.calls = 0

    def _check(self) -> None:
        self.calls += 1
        if self.down:
            raise ConnectionError("cache unreachable")

    async def lookup(self, slots: Sequence[Slot]) -> list[Found]:
        self._check()
        return await self.inner.lookup(slots)

    async def fill(self, fills: Sequence[Fill]) -> None:
        self._check()
        await self.inner.fill(fills)

    async def invalidate(self, generations: Sequence[str]) -> None:
        self._check()
        await self.inner.invalidate(generations)

    async def close(self) -> None:
        await self.inner.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_an_invalidation_that_failed_is_sent_before_the_cache_is_read_again() -> None:
    flaky, clock = FlakyCache(), Clock()
    guarded = GuardedCache(flaky, name="flaky", retry_after=1.0, clock=clock)
    await fill_from_store(guarded, USER, b"old")
    flaky.down = True
    await guarded.invalidate([USER.generation])  # the write committed; Redis is away
    assert guarded.pending_invalidations == 1
    assert await guarded.lookup([USER]) == [MISS]  # read past the cache meanwhile
    flaky.down = False
    assert await guarded.lookup([USER]) == [MISS]  # still resting after the failure
    clock.now += 1.0
    [seen] = await guarded.lookup([USER])  # the invalidation goes first
    assert seen.value is None
    assert seen.generation is not None
    assert guarded.pending_invalidations == 0


async def test_a_failing_cache_is_left_alone_for_a_while_and_warned_about_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    flaky, clock = FlakyCache(), Clock()
    guarded = GuardedCache(flaky, name="flaky", retry_after=1.0, warn_every=60.0, clock=clock)
    flaky.down = True
    with caplog.at_level(logging.INFO, logger="timeline.cache"):
        for _ in range(30):
            assert await guarded.lookup([USER]) == [MISS]
            await guarded.fill([Fill(USER, "g", b"x")])
            clock.now += 0.5
        flaky.down = False
        clock.now += 1.0
        assert (await guarded.lookup([USER]))[0].generation is not None
    assert flaky.calls == 16  # one try per second of outage, then the one that worked
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "serving from the store" in warnings[0].getMessage()
    assert any("reachable again" in r.getMessage() for r in caplog.records)


async def test_redis_where_nothing_listens_is_a_miss_not_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    nowhere = RedisCache(f"redis://127.0.0.1:{free_port()}/0")
    guarded = GuardedCache(nowhere, name="redis")
    with caplog.at_level(logging.WARNING, logger="timeline.cache"):
        assert await guarded.lookup([USER]) == [MISS]
        await guarded.invalidate([USER.generation])
        await guarded.fill([Fill(USER, "g", b"x")])
        await guarded.close()
    assert guarded.failures >= 1
    assert "redis cache unreachable" in caplog.text
