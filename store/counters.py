"""Sharded counters: many writers a second on one number.

One Datastore entity takes about one write a second, so a popular photo's like
count is spread over several root entities; a write picks one at random, a read
sums them all (one batched get, shared with the rest of the page through the
DataLoader). A cron job folds the shards into the `total` entity now and then, so
reads stay exact while shards stay few.

    CounterShard/<counter>#total   the folded part
    CounterShard/<counter>#<n>     n in 0..SHARDS-1
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
from datetime import UTC, datetime

from store.keys import Key
from store.models import sort_key
from store.port import Entity, Query, Transaction

SHARD_KIND = "CounterShard"
TOTAL = "total"
# Shards per kind of counter: as many as the busiest writer needs, no more, since a
# page reads every shard of every counter it shows (Datastore looks up at most
# 1,000 keys a call; a feed page of 50 photos reads 50 * (9 + 3) of them).
SHARDS = {"likes": 8, "followers": 8, "comments": 2, "following": 2}
DEFAULT_SHARDS = 4


def counter_name(kind: str, key: Key) -> str:
    return f"{kind}:{key.encode()}"


def _shards(name: str) -> int:
    return SHARDS.get(name.partition(":")[0], DEFAULT_SHARDS)


@functools.lru_cache(maxsize=4096)
def _shard_keys(name: str) -> tuple[Key, ...]:
    parts = [TOTAL, *map(str, range(_shards(name)))]
    return tuple(Key.of(SHARD_KIND, f"{name}#{part}") for part in parts)


def shard_keys(name: str) -> list[Key]:
    """The total's key first, then the shards' (cached: every page asks for them)."""
    return list(_shard_keys(name))


async def add(tx: Transaction, name: str, delta: int, now: datetime | None = None) -> None:
    """Adds `delta` to one random shard, inside the caller's transaction. The shard
    is marked pending, which is how the fold job finds it."""
    key = Key.of(SHARD_KIND, f"{name}#{random.randrange(_shards(name))}")
    [shard] = await tx.get_many([key])
    when = now or datetime.now(UTC)
    tx.put_many([_shard(key, name, count_of(shard) + delta, pending=True, when=when)])


def total(shards: Sequence[Entity | None]) -> int:
    """The counter's value from all its entities (shard_keys order), never below 0."""
    return max(sum(count_of(shard) for shard in shards), 0)


def pending_shards() -> Query:
    """Shards written since their counter was last folded, oldest first."""
    return Query(
        kind=SHARD_KIND, order_by="sort_key", descending=False, equals=(("pending", True),)
    )


async def fold(tx: Transaction, *, name: str, now: datetime) -> None:
    """Moves every shard's count into the total, in the caller's transaction (one
    counter's entities are at most 9 entity groups, well inside the 25 allowed)."""
    keys = shard_keys(name)
    shards = await tx.get_many(keys)
    folded = sum(count_of(shard) for shard in shards)
    tx.put_many(
        [_shard(keys[0], name, folded, pending=False, when=now)]
        + [
            _shard(key, name, 0, pending=False, when=now)
            for key, shard in zip(keys[1:], shards[1:], strict=True)
            if shard is not None
        ]
    )


def total_entity(name: str, count: int, when: datetime) -> Entity:
    """A counter's folded total, for writing a known value (demo data)."""
    return _shard(shard_keys(name)[0], name, count, pending=False, when=when)


def _shard(key: Key, name: str, count: int, *, pending: bool, when: datetime) -> Entity:
    return Entity(
        key,
        {"count": count, "counter": name, "pending": pending, "sort_key": sort_key(when, key.name)},
    )


def count_of(shard: Entity | None) -> int:
    value = shard.properties.get("count") if shard else 0
    return value if isinstance(value, int) else 0
