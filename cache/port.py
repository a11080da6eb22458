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
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


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
    value: bytes | None = None


MISS = Found(None)


@dataclass(frozen=True)
class Fill:
    slot: Slot
    generation: str  # the one `lookup` returned, before the store was read
    value: bytes


class Cache(Protocol):
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


def new_generation() -> str:
    return secrets.token_hex(16)
