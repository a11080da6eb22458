"""Port calls in turns, for the cache race tests: every call through the cache
port and the store port waits for its turn, and the test decides whose turn comes
next, so the steps of writers and readers interleave in any order it chooses. The
cache and the store stay real; only the turns are added, through the ports."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from cache.port import Cache, CarryingCache, Change, Fill, Found, Slot
from store import models
from store.keys import Key
from store.port import Entity, Position, Query, Result, Store, Transaction
from tests.utils.builders import BASE_TIME

T = TypeVar("T")
ACTOR: contextvars.ContextVar[str] = contextvars.ContextVar("actor")
EXAMPLES = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
Choose = Callable[[list[str]], str]

# More than any race here has actors waiting at once.
MOST_OPTIONS = 16


def drawn_choices(data: st.DataObject) -> Choose:
    """Each choice drawn as an index in one fixed range, not from the options
    themselves: which actors wait at a turn can depend on the adapter's timing (a
    Redis reply, a writer thread), and a draw whose range changed between a run
    and its replay is what hypothesis reports as an inconsistent strategy
    (FlakyStrategyDefinition) instead of the test's own result."""
    return lambda options: options[data.draw(st.integers(0, MOST_OPTIONS - 1)) % len(options)]


async def _as(actor: str, run: Awaitable[T]) -> T:
    ACTOR.set(actor)
    return await run


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


async def release(turns: Turns, tasks: Mapping[str, asyncio.Task[Any]]) -> None:
    """Every turn granted at once, so that the actors of a failed run finish too."""
    turns.free = True
    for turn in turns.waiting.values():
        turn.set_result(None)
    await asyncio.gather(*tasks.values(), return_exceptions=True)


def photo(owner: str, caption: str) -> Entity:
    return models.photo_to_entity(models.Photo(owner, "p", caption, BASE_TIME))


async def run_chosen(
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
