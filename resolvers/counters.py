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

import random
from collections.abc import Sequence

from resolvers.loaders import Loaders
from store.keys import Key
from store.port import Entity, Transaction

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


def shard_keys(name: str) -> list[Key]:
    parts = [TOTAL, *map(str, range(_shards(name)))]
    return [Key.of(SHARD_KIND, f"{name}#{part}") for part in parts]


async def add(tx: Transaction, name: str, delta: int) -> None:
    """Adds `delta` to one random shard, inside the caller's transaction."""
    key = Key.of(SHARD_KIND, f"{name}#{random.randrange(_shards(name))}")
    [shard] = await tx.get_many([key])
    count = _count(shard)
    tx.put_many([Entity(key, {"count": count + delta, "counter": name})])


async def read(loaders: Loaders, name: str) -> int:
    shards = await loaders.entities.load_many(shard_keys(name))
    return max(sum(_count(shard) for shard in shards), 0)


def fold(shards: Sequence[Entity | None], name: str) -> list[Entity]:
    """The entities that move every shard's count into the total (for the fold job)."""
    total = sum(_count(shard) for shard in shards)
    keys = shard_keys(name)
    return [Entity(keys[0], {"count": total, "counter": name})] + [
        Entity(key, {"count": 0, "counter": name}) for key in keys[1:]
    ]


def _count(shard: Entity | None) -> int:
    value = shard.properties.get("count") if shard else 0
    return value if isinstance(value, int) else 0
