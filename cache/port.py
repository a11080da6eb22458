"""The cache port: versioned slots, so that a fill racing a write is never read.

Every cached value belongs to a *generation*: a random token kept under its own
key, replaced whenever a write changes what the value was made from. A read
looks up the generation and the value together; the value counts only if it was
stamped with the generation that is current. A reader that misses fills under the
generation it saw *before* it read the store, so:

- a write that completes (commits, then `invalidate`s) before a read starts can
  never be hidden from that read: the generation the read sees was made after the
  invalidation, so any value stamped with it was read from the store after the
  commit;
- a fill that lost a race with an invalidation lands under a dead generation,
  where nothing will ever look;
- losing a generation (evicted, expired) is the same as an invalidation, and
  losing a value is a miss, so a bounded cache never turns stale by forgetting.

Tokens are 128 random bits, so a dead generation never comes back.

Values are bytes, except in a cache that never lets them out of this process
(`keeps_objects`): that one keeps whatever it is given, so that a hit costs no
decoding, and its callers only give it objects that nobody will change.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Slot:
    """Where one value lives: the key of the generation it depends on, and its own
    key (several values may share a generation, e.g. pages of one list)."""

    generation: str
    value: str


@dataclass(frozen=True)
class Found:
    """What a lookup saw: the current generation (None when the cache could not
    tell, in which case the caller must not fill) and the value, if it was stamped
    with that generation."""

    generation: str | None
    value: object = None  # bytes, or what a cache that keeps_objects was filled with


MISS = Found(None)


@dataclass(frozen=True)
class Fill:
    slot: Slot
    generation: str  # the one `lookup` returned, before the store was read
    value: object  # bytes unless the cache keeps_objects


class Cache(Protocol):
    @property
    def keeps_objects(self) -> bool:
        """True when values never leave this process: they are kept as given, not
        as bytes, and must therefore never change once filled."""
        ...

    async def lookup(self, slots: Sequence[Slot]) -> list[Found]:
        """For each slot, its current generation (made now if there was none) and
        its value if that generation stamps it. One round trip where possible."""
        ...

    async def fill(self, fills: Sequence[Fill]) -> None:
        """Store values read from the store after their generation was looked up."""
        ...

    async def invalidate(self, generations: Sequence[str]) -> None:
        """End these generations: no value stamped with them is read again."""
        ...

    async def close(self) -> None: ...


# What a carried value becomes: made from the value it was, or None to drop it.
Change = Callable[[object], object | None]


@runtime_checkable
class CarryingCache(Cache, Protocol):
    """A cache that can end a generation and carry some of its values over to the
    next one, changed, in one step that no lookup, fill or invalidation comes into
    (cache/memory.py: a step of the event loop). A shared cache need not: there a
    write only invalidates."""

    async def carry(
        self, generation: str, seen: str, written: frozenset[str], changes: Mapping[str, Change]
    ) -> None:
        """End `generation`, as `invalidate` does; then, if it is still `seen` (the
        one a writer looked up before writing the keys `written`), or was made from
        it by carries of other keys only, stamp with the new one each value (by
        value key) that it stamped, as its change makes it.

        So the values carried are ones no invalidation has ended since the writer
        looked, and no write of the same keys has changed (two writes of a key
        may land in one order and carry in the other): an invalidation before the
        carry makes it a plain invalidation, one after it ends the carried values
        too, and a fill under an ended generation lands where nothing looks."""
        ...


def new_generation() -> str:
    return secrets.token_hex(16)
