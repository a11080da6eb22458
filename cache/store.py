"""Read-through in front of the store, invalidated after every write that changes
a cached value: memcache in front of the datastore, as the App Engine original had.

It wraps the store port, so every write passes through it whoever makes it (a
mutation's transaction, a task handler, a cron job folding counters) and the keys
written are known exactly. What it caches are the reads a profile screen makes:

- entities by key of `ENTITY_KINDS` (cache/slots.py): a user (`User`), a
  username's claim (`Username`; a user by username is two of these gets), a
  photo by id (`Photo`), counters (`CounterShard`, a total and any legacy
  shards; follower, following, like and comment counts), a viewer's like of a
  photo (`Like`; "not liked", the common answer, is a cached absence), a
  viewer's half of a follow edge (`Following`; a home page reads those of its
  owners to hide the unfollowed) and persisted-query documents, present or
  absent;
- the first page of an ancestor query of `PAGE_KINDS` (a user's newest photos,
  a viewer's home feed of `FeedItem`s), per page size.

Every write of those kinds goes through this decorator: a like or unlike in the
mutation's transaction, the fan-out, backfill, prune and unfan-out tasks'
`put_many`/`delete_many` of `FeedItem`s (tasks/feed.py), each in the viewer's
entity group, so it ends that viewer's feed pages.

Reads inside a transaction go to the store: they must see its snapshot. So do
the reads of background work (`past_the_cache`): a task acts on what it reads and
what it does stays done, so it must never act on a value that an invalidation is
about to end (read between a commit and its invalidation, or kept by a Redis this
process could not reach, cache/guard.py): fan-out to an unfollower, a prune that
sees an edge still there, a `Follower` half written for an edge already gone. A
request only shows what it reads, and its client's next read is fresh. A write
invalidates, after its commit, the generation of each key written and, for a
kind in `PAGE_KINDS`, of the first pages of each of its ancestors. Invalidation
also follows a commit that failed, whose outcome may be unknown. Counts are
therefore as fresh as the store's: a total written by a `fold_all_counters`
task, or a legacy shard folded by cron, is invalidated like any entity.

One exception, in a cache that can carry (the in-process one): a `put_many` of
`FeedItem`s that committed carries the viewer's cached first pages over to the
next generation with the items put into them (cache/carried_pages.py), so a
fan-out, the most frequent write to a home feed, does not send the next home
page to the store. It still ends the generation, so a fill that raced it is never
read, and it carries only what no invalidation or write of the same keys ended
since it looked the generation up, before writing (cache/port.py). Deletes
(prune, unfan-out), writes in a transaction and a shared cache still invalidate.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from cache.carried_pages import CarriedPages
from cache.codec import BYTES
from cache.frozen import ABSENT, OBJECTS
from cache.port import Cache, CarryingCache, Fill, Found
from cache.slots import ENTITY_KINDS, entity_slot, generations_written, page_slot, slot_at
from store.keys import Key
from store.port import Entity, Position, Query, Result, Store, Transaction


class CachedStore:
    """The store port, read through `cache` for what is cached."""

    def __init__(self, inner: Store, cache: Cache, carried: CarriedPages | None = None) -> None:
        """`carried`: the pages a put carries, when the cache can carry; made here
        unless given. The background store (`past_the_cache`) is given the request
        store's: requests read the pages, and a task's fan-out puts their items, so
        its puts must carry the pages requests read."""
        self.inner = inner
        self.cache = cache
        # Objects for a cache inside this process: a hit then decodes nothing.
        self._codec = OBJECTS if cache.keeps_objects else BYTES
        self.hits = 0
        self.misses = 0
        if carried is None and isinstance(cache, CarryingCache):
            carried = CarriedPages(cache, self._codec)
        self._carried = carried

    @property
    def round_trips(self) -> int:
        return self.inner.round_trips

    @round_trips.setter
    def round_trips(self, value: int) -> None:
        self.inner.round_trips = value

    async def get_many(self, keys: Sequence[Key]) -> list[Entity | None]:
        # A feed page asks for some 300 distinct keys, most of them cached: the answer
        # is built by position, without a dict (every Key hash is a Python call).
        # Told apart by path (hashed in C; a Key's hash is a Python call): only a
        # list that repeats a key is made unique by its keys.
        paths = [key.path for key in keys]
        unique = list(keys) if len(set(paths)) == len(paths) else list(dict.fromkeys(keys))
        cached: list[int] = []  # positions in `unique` of the keys of cached kinds
        uncached: list[int] = []
        for at, key in enumerate(unique):
            # key.kind, without a property call a key
            (cached if key.path[-1][0] in ENTITY_KINDS else uncached).append(at)
        if not cached:
            return await self.inner.get_many(keys)
        found = await self.cache.lookup([slot_at(unique[at].path) for at in cached])
        load_entity = self._codec.load_entity
        entities: list[Entity | None] = [None] * len(unique)
        misses: list[tuple[int, str | None]] = []  # position, generation to fill under
        for at, seen in zip(cached, found, strict=True):
            value = seen.value
            if type(value) is Entity:  # kept as it is (cache/frozen.py): nothing to load
                entities[at] = value
            elif value is ABSENT:  # kept absent: None, which `entities` holds already
                pass
            elif value is not None:
                entities[at] = load_entity(value, unique[at])
            else:
                misses.append((at, seen.generation))
        self.hits += len(cached) - len(misses)
        self.misses += len(misses)
        wanted = [at for at, _ in misses] + uncached
        if wanted:
            read = await self.inner.get_many([unique[at] for at in wanted])
            for at, entity in zip(wanted, read, strict=True):
                entities[at] = entity
            dump_entity = self._codec.dump_entity
            fills = [
                Fill(entity_slot(unique[at]), generation, dump_entity(entities[at]))
                for at, generation in misses
                if generation is not None
            ]
            if fills:
                await self.cache.fill(fills)
        if len(unique) == len(keys):  # each key asked for once: already in order
            return entities
        known = dict(zip(unique, entities, strict=True))
        return [known[key] for key in keys]

    async def page(
        self,
        query: Query,
        *,
        limit: int,
        after: Position | None = None,
        before: Position | None = None,
        from_end: bool = False,
    ) -> list[Result]:
        first_page = after is None and before is None and not from_end
        slot = page_slot(query, limit) if first_page else None
        if slot is None:
            return await self.inner.page(
                query, limit=limit, after=after, before=before, from_end=from_end
            )
        if self._carried:
            self._carried.read(query, limit)
        [seen] = await self.cache.lookup([slot])
        self._count([seen])
        if seen.value is not None:
            return self._codec.load_results(seen.value)
        results = await self.inner.page(query, limit=limit)
        if seen.generation is not None:
            await self.cache.fill([Fill(slot, seen.generation, self._codec.dump_results(results))])
        return results

    async def put_many(self, entities: Sequence[Entity]) -> None:
        carried = self._carried
        put = await carried.before_put(entities) if carried else None
        try:
            await self.inner.put_many(entities)
        except BaseException:
            await self.cache.invalidate(generations_written(entity.key for entity in entities))
            raise
        if carried and put is not None:
            await carried.after_commit(put)
        elif entities:
            await self.cache.invalidate(generations_written(entity.key for entity in entities))

    async def delete_many(self, keys: Sequence[Key]) -> None:
        try:
            await self.inner.delete_many(keys)
        finally:
            await self.cache.invalidate(generations_written(keys))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        written: list[Key] = []
        try:
            async with self.inner.transaction() as tx:
                yield _RecordingTransaction(tx, written)
        finally:
            if written:
                await self.cache.invalidate(generations_written(written))

    async def close(self) -> None:
        try:
            await self.inner.close()
        finally:
            await self.cache.close()

    def past_the_cache(self) -> Store:
        """This store for background work: it reads from the store itself, and its
        writes invalidate this cache as this one's do, or carry the pages this
        one's requests read (the same `CarriedPages`)."""
        return _PastTheCache(self.inner, self.cache, self._carried)

    def _count(self, found: Sequence[Found]) -> None:
        hits = sum(seen.value is not None for seen in found)
        self.hits += hits
        self.misses += len(found) - hits


class _RecordingTransaction:
    """The store's transaction, noting every key it writes."""

    def __init__(self, inner: Transaction, written: list[Key]) -> None:
        self._inner = inner
        self._written = written

    async def get_many(self, keys: Sequence[Key]) -> list[Entity | None]:
        return await self._inner.get_many(keys)

    def put_many(self, entities: Sequence[Entity]) -> None:
        self._written.extend(entity.key for entity in entities)
        self._inner.put_many(entities)

    def delete_many(self, keys: Sequence[Key]) -> None:
        self._written.extend(keys)
        self._inner.delete_many(keys)


class _PastTheCache(CachedStore):
    """A cached store whose reads go to the store; its writes still invalidate.
    Closing it leaves the store and the cache open: their owner closes them."""

    async def get_many(self, keys: Sequence[Key]) -> list[Entity | None]:
        return await self.inner.get_many(keys)

    async def page(
        self,
        query: Query,
        *,
        limit: int,
        after: Position | None = None,
        before: Position | None = None,
        from_end: bool = False,
    ) -> list[Result]:
        return await self.inner.page(
            query, limit=limit, after=after, before=before, from_end=from_end
        )

    async def close(self) -> None:
        pass
