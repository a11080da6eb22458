"""Sharded counters: many writers a second on one number.

One Datastore entity group takes about one write a second, and fifty users may
like one photo in a second. So a change is never written to the counter by the
request that makes it: the request writes a delta, an entity group of its own
that nobody else writes, in the same transaction as the like or follow it counts
(in its actor's group), and a task
(`fold_counter`, named per counter and time bucket, tasks/counter_jobs.py) moves
deltas into one of the counter's shards, FOLD_BATCH deltas a transaction. A
read sums the shards (one batched get, shared with the rest of the page through
the DataLoader), so a count shows a change once its fold has run, about a second
later, and is exact from then on: a delta is deleted in the transaction that
adds it to a shard, so it counts once. A cron job folds the shards into the
`total` entity now and then, and folds deltas whose task was lost.

A delta is not kept in its actor's group: the fold's transaction reads it and
deletes it, and in the actor's group that read would conflict with whatever the
actor does meanwhile, and that delete would make the actor's next action retry.

    CounterDelta/<id>               a change not yet folded  {counter, delta, actor}
    CounterShard/<counter>#total    the folded part
    CounterShard/<counter>#<n>      n in 0..SHARDS-1
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
from datetime import datetime

from store.keys import Key
from store.models import new_id, sort_key
from store.port import Entity, Query, Transaction, Value

SHARD_KIND = "CounterShard"
DELTA_KIND = "CounterDelta"
TOTAL = "total"
# Deltas folded in one transaction: their groups (one each) and one shard's stay within
# the 25 entity groups a Datastore transaction may touch.
FOLD_BATCH = 24
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


def add(tx: Transaction, name: str, delta: int, *, actor_id: str, now: datetime) -> None:
    """Records `delta` as an entity group of its own, inside the caller's
    transaction (which reads nothing for it, so no two actors ever contend).
    The caller schedules the counter's `fold_counter` task after the commit."""
    when = now
    delta_id = new_id()
    properties: dict[str, Value] = {
        "counter": name,
        "delta": delta,
        "actor": actor_id,
        "sort_key": sort_key(when, delta_id),
    }
    tx.put_many([Entity(Key.of(DELTA_KIND, delta_id), properties, unindexed=frozenset({"actor"}))])


def deltas_of(name: str) -> Query:
    """The counter's deltas not yet folded, oldest first."""
    return Query(
        kind=DELTA_KIND, order_by="sort_key", descending=False, equals=(("counter", name),)
    )


def all_deltas() -> Query:
    """Every counter's deltas not yet folded, oldest first (the sweeper's query)."""
    return Query(kind=DELTA_KIND, order_by="sort_key", descending=False)


async def fold_deltas(tx: Transaction, *, name: str, keys: Sequence[Key], now: datetime) -> int:
    """Adds the deltas at `keys` that still exist to one random shard and deletes
    them, in the caller's transaction; returns how many it folded. A delta
    folded by a racing fold is gone here, so it is never counted twice."""
    shard_key = Key.of(SHARD_KIND, f"{name}#{random.randrange(_shards(name))}")
    shard, *deltas = await tx.get_many([shard_key, *keys])
    present = [delta for delta in deltas if delta is not None]
    if not present:
        return 0
    moved = sum(_delta_of(delta) for delta in present)
    tx.put_many([_shard(shard_key, name, count_of(shard) + moved, pending=True, when=now)])
    tx.delete_many([delta.key for delta in present])
    return len(present)


def _delta_of(entity: Entity) -> int:
    value = entity.properties.get("delta")
    return value if isinstance(value, int) else 0


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
