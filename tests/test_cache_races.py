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
import contextvars
import itertools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cache.memory import MemoryCache
from cache.port import Cache, CarryingCache, Change, Fill, Found, Slot
from cache.redis import RedisCache
from cache.store import CachedStore
from store import models, social_models
from store.keys import Key
from store.port import Entity, Position, Query, Result, Store, Transaction
from store.sqlite import SQLiteStore
from tests.utils.builders import BASE_TIME

T = TypeVar("T")
ACTOR: contextvars.ContextVar[str] = contextvars.ContextVar("actor")
EXAMPLES = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_owners = itertools.count()  # a photo of its own for each run


@dataclass
class Turns:
    """Each port call asks for a turn; the test grants them one at a time."""

    waiting: dict[str, asyncio.Future[None]] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    granted: int = 0  # the logical clock: turns granted so far
    free: bool = False  # every turn granted at once, to let the actors finish

    async def take(self) -> None:
        if self.free:
            return
        turn = asyncio.get_running_loop().create_future()
        self.waiting[ACTOR.get()] = turn
        self.changed.set()
        await turn

    async def grant(self, actor: str, task: asyncio.Task[Any]) -> None:
        self.granted += 1
        self.waiting.pop(actor).set_result(None)
        await self.settle(actor, task)

    def start(self, actor: str, run: Awaitable[T]) -> asyncio.Task[T]:
        task = asyncio.create_task(_as(actor, run))
        task.add_done_callback(lambda _: self.changed.set())
        return task

    async def settle(self, actor: str, task: asyncio.Task[Any]) -> None:
        """Until `actor` asks for its next turn or is done."""
        while actor not in self.waiting and not task.done():
            self.changed.clear()
            await self.changed.wait()


class TurnCache:
    def __init__(self, inner: Cache, turns: Turns) -> None:
        self.inner, self.turns = inner, turns

    @property
    def keeps_objects(self) -> bool:
        return self.inner.keeps_objects

    async def lookup(self, slots: Sequence[Slot]) -> list[Found]:
        await self.turns.take()
        return await self.inner.lookup(slots)

    async def fill(self, fills: Sequence[Fill]) -> None:
        await self.turns.take()
        await self.inner.fill(fills)

    async def invalidate(self, generations: Sequence[str]) -> None:
        await self.turns.take()
        await self.inner.invalidate(generations)

    async def close(self) -> None:
        await self.inner.close()


class TurnCarryingCache(TurnCache):
    """A cache that carries pages across a put (cache/memory.py), one turn a carry."""

    def __init__(self, inner: CarryingCache, turns: Turns) -> None:
        super().__init__(inner, turns)
        self.carrying = inner

    async def carry(
        self, generation: str, seen: str, written: frozenset[str], changes: Mapping[str, Change]
    ) -> None:
        await self.turns.take()
        await self.carrying.carry(generation, seen, written, changes)


def turn_cache(inner: Cache, turns: Turns) -> TurnCache:
    if isinstance(inner, CarryingCache):
        return TurnCarryingCache(inner, turns)
    return TurnCache(inner, turns)


class TurnStore:
    """The store, one turn per call; notes the order in which writes land."""

    def __init__(self, inner: Store, turns: Turns) -> None:
        self.inner, self.turns = inner, turns
        self.round_trips = 0
        self.landed: list[str] = []

    async def get_many(self, keys: Sequence[Key]) -> list[Entity | None]:
        await self.turns.take()
        return await self.inner.get_many(keys)

    async def put_many(self, entities: Sequence[Entity]) -> None:
        await self.turns.take()
        await self.inner.put_many(entities)
        self.landed.extend(str(e.properties["caption"]) for e in entities)

    async def delete_many(self, keys: Sequence[Key]) -> None:
        await self.turns.take()
        await self.inner.delete_many(keys)

    async def page(
        self,
        query: Query,
        *,
        limit: int,
        after: Position | None = None,
        before: Position | None = None,
        from_end: bool = False,
    ) -> list[Result]:
        await self.turns.take()
        return await self.inner.page(
            query, limit=limit, after=after, before=before, from_end=from_end
        )

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        raise NotImplementedError

    async def close(self) -> None:
        pass


@pytest.fixture(params=["memory", "redis"])
def make_cache(request: pytest.FixtureRequest) -> Callable[[], Cache]:
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        return lambda: RedisCache(url)
    return lambda: MemoryCache(1000)


def photo(owner: str, caption: str) -> Entity:
    return models.photo_to_entity(models.Photo(owner, "p", caption, BASE_TIME))


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


Choose = Callable[[list[str]], str]


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
        await _run(turns, tasks, actors, choose)
        order = ["v0", *inner.landed]  # values in the order their writes landed
        for name, (started, value) in reads.items():
            done_before = [order.index(w) for w, at in completed.items() if at <= started]
            assert order.index(value) >= max(done_before, default=0), (name, value, order)
        # Nothing stale was left behind either: later reads see the last write.
        for attempt in range(2):
            tasks[f"final{attempt}"] = turns.start(f"final{attempt}", read())
            await _run(turns, tasks, {}, choose)
            assert tasks[f"final{attempt}"].result() == order[-1], order
    finally:  # a failed run lets its actors finish (a write's invalidation waits too)
        turns.free = True
        for turn in turns.waiting.values():
            turn.set_result(None)
        await asyncio.gather(*tasks.values(), return_exceptions=True)


async def _run(
    turns: Turns,
    tasks: dict[str, asyncio.Task[Any]],
    actors: dict[str, Callable[[], Awaitable[None]]],
    choose: Choose,
) -> None:
    """Start and step the actors in the order chosen, until every one is done."""
    for actor, task in tasks.items():
        await turns.settle(actor, task)
    while len(set(actors) - set(tasks)) or turns.waiting:
        options = sorted(turns.waiting) + sorted(set(actors) - set(tasks))
        actor = choose(options) if len(options) > 1 else options[0]
        if actor in tasks:
            await turns.grant(actor, tasks[actor])
        else:
            tasks[actor] = turns.start(actor, actors[actor]())
            await turns.settle(actor, tasks[actor])
    await asyncio.gather(*tasks.values())


class Schedules:
    """Every sequence of choices, depth first: each run replays a prefix, then
    takes the first option and leaves the others for later runs."""

    def __init__(self) -> None:
        self._todo: list[list[int]] = [[]]
        self._prefix: list[int] = []
        self._taken: list[int] = []
        self.runs = 0

    def next(self) -> bool:
        if not self._todo:
            return False
        self._prefix, self._taken = self._todo.pop(), []
        self.runs += 1
        return True

    def choose(self, options: list[str]) -> str:
        depth = len(self._taken)
        if depth < len(self._prefix):
            pick = self._prefix[depth]
        else:
            pick = 0
            self._todo.extend([*self._taken, other] for other in range(len(options) - 1, 0, -1))
        self._taken.append(pick)
        return options[pick]


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
            choose=lambda options: data.draw(st.sampled_from(options)),
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


async def _as(actor: str, run: Awaitable[T]) -> T:
    ACTOR.set(actor)
    return await run


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
    choose: Choose = lambda options: data.draw(st.sampled_from(options))  # noqa: E731
    try:
        await _run(turns, tasks, actors, choose)
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
            await _run(turns, tasks, {}, choose)
            assert tasks[f"final{attempt}"].result() == final
        assert cached.hits >= 1  # the second final read, at least, came from the cache
    finally:
        turns.free = True
        for turn in turns.waiting.values():
            turn.set_result(None)
        await asyncio.gather(*tasks.values(), return_exceptions=True)
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
        turns.free = True
        for turn in turns.waiting.values():
            turn.set_result(None)
        await asyncio.gather(*tasks.values(), return_exceptions=True)


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
