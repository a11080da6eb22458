"""Counters: many writers a second on one number, one entity to read it.

One Datastore entity group takes about one write a second, and fifty users may
like one photo in a second. So a change is never written to the counter by the
request that makes it: the request writes a delta, an entity group of its own
that nobody else writes, in the same transaction as the like or follow it counts
(in its actor's group), and a task (`fold_all_counters`, named per time bucket,
tasks/counters.py; `fold_counter` still serves one counter's tasks queued before
it) adds each counter's deltas to that counter's one entity, its total, and
deletes them, FOLD_BATCH deltas a transaction. A read is one key per
count (in the batched get the page shares through the DataLoader), so a count
shows a change once its fold has run, about a second later, and is exact from
then on.

Why one entity is enough, and exact:
- Its writes are the folds, not the actions: a bucket's task folds everything
  the bucket's actions left, about one write a bucket (a few when more than
  FOLD_BATCH deltas came in one), the rate one entity group sustains.
- Folds may overlap (the next bucket's task, a retry of one whose commit was
  lost, the cron job's sweep of stale deltas): each fold's transaction reads
  the total and the deltas it adds, and deletes those deltas. Two that overlap
  conflict on the total (Datastore aborts one; the SQLite writer refuses the
  later commit of an entity read before the other's), and the one retried reads
  again: a delta folded meanwhile is gone, so it counts once, and the total it
  adds to is the one the other wrote, so no fold is lost.

A delta is not kept in its actor's group: the fold's transaction reads it and
deletes it, and in the actor's group that read would conflict with whatever the
actor does meanwhile, and that delete would make the actor's next action retry.

Before this layout a counter also had SHARDS shards, deltas were folded into a
random one (marked `pending`), a read summed the total and every shard, and the
`fold_counters` cron job moved pending shards into the total. Shards written by
that code still count, because nothing reads a counter before they are folded:
every process folds the pending shards (`fold_legacy_shards`) at start, before it
serves (app.py), so an embedded store (one version at a time) is exact across
the upgrade (unless the store failed at that start: then as below); and the
cron job keeps folding pending shards, for the one case
left, a Datastore deploy where an instance of the old version still folds deltas
into shards for a while after the new one started: those counts show at the
cron job's next run (every 10 minutes) instead of a second after, and are not
lost. A legacy fold deletes the shards it emptied.

    CounterDelta/<id>               a change not yet folded  {counter, delta, actor}
    CounterShard/<counter>#total    the counter               {count, counter}
    CounterShard/<counter>#<n>      a legacy shard, n < SHARDS (pending until folded)
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime

from store.keys import Key
from store.models import new_id, sort_key
from store.port import Entity, Query, Transaction, Value

SHARD_KIND = "CounterShard"
DELTA_KIND = "CounterDelta"
TOTAL = "total"
# Deltas folded in one transaction: their groups (one each) and the total's stay
# within the 25 entity groups a Datastore transaction may touch.
FOLD_BATCH = 24
# How many shards the code before one entity per counter wrote, per kind of
# counter: the keys a legacy fold reads.
SHARDS = {"likes": 8, "followers": 8, "comments": 2, "following": 2}
DEFAULT_SHARDS = 4


def counter_name(kind: str, key: Key) -> str:
    return f"{kind}:{key.encode()}"


@functools.lru_cache(maxsize=65_536)  # a page asks for the same counters again and again
def counter_key(name: str) -> Key:
    """The one key a count reads."""
    return Key.of(SHARD_KIND, f"{name}#{TOTAL}")


@functools.lru_cache(maxsize=65_536)  # each asked for by a page's prefetch and its field
def key_of(kind: str, key: Key) -> Key:
    """`counter_key(counter_name(kind, key))`, without making the name again."""
    return counter_key(counter_name(kind, key))


def legacy_shard_keys(name: str) -> list[Key]:
    """The shards the code before one entity per counter wrote for `name`."""
    count = SHARDS.get(name.partition(":")[0], DEFAULT_SHARDS)
    return [Key.of(SHARD_KIND, f"{name}#{n}") for n in range(count)]


def add(tx: Transaction, name: str, delta: int, *, actor_id: str, now: datetime) -> None:
    """Records `delta` as an entity group of its own, inside the caller's
    transaction (which reads nothing for it, so no two actors ever contend).
    The caller adds the bucket's `fold_all_counters` task to its outbox."""
    delta_id = new_id()
    properties: dict[str, Value] = {
        "counter": name,
        "delta": delta,
        "actor": actor_id,
        "sort_key": sort_key(now, delta_id),
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
    """Adds the deltas at `keys` that still exist to the total and deletes them,
    in the caller's transaction; returns how many it folded. A delta folded by a
    racing fold is gone here, so it is never counted twice."""
    total_key = counter_key(name)
    total, *deltas = await tx.get_many([total_key, *keys])
    present = [delta for delta in deltas if delta is not None]
    if not present:
        return 0
    moved = sum(_delta_of(delta) for delta in present)
    tx.put_many([total_entity(name, count_of(total) + moved, now)])
    tx.delete_many([delta.key for delta in present])
    return len(present)


def _delta_of(entity: Entity) -> int:
    value = entity.properties.get("delta")
    return value if isinstance(value, int) else 0


def value(total: Entity | None) -> int:
    """A counter's value from its total (None: nothing folded yet), never below 0."""
    return max(count_of(total), 0)


def pending_shards() -> Query:
    """Legacy shards not yet folded into their total, oldest first."""
    return Query(
        kind=SHARD_KIND, order_by="sort_key", descending=False, equals=(("pending", True),)
    )


async def fold_shards(tx: Transaction, *, name: str, now: datetime) -> None:
    """Moves the legacy shards' counts into the total and deletes the shards, in
    the caller's transaction (a counter's entities are at most 9 entity groups,
    well inside the 25 allowed)."""
    keys = [counter_key(name), *legacy_shard_keys(name)]
    total, *shards = await tx.get_many(keys)
    present = [shard for shard in shards if shard is not None]
    if not present:
        return
    folded = count_of(total) + sum(count_of(shard) for shard in present)
    tx.put_many([total_entity(name, folded, now)])
    tx.delete_many([shard.key for shard in present])


def total_entity(name: str, count: int, when: datetime) -> Entity:
    """A counter's total holding `count` (never `pending`: the cron job's query
    looks for legacy shards only)."""
    key = counter_key(name)
    return Entity(
        key,
        {"count": count, "counter": name, "pending": False, "sort_key": sort_key(when, key.name)},
    )


def count_of(entity: Entity | None) -> int:
    value = entity.properties.get("count") if entity else 0
    return value if isinstance(value, int) else 0
