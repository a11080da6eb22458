"""The embedded cache: a bounded LRU in this process (the default on one machine).

Generations and values share one LRU; evicting either is safe (cache/port.py).
Every operation runs without awaiting, so each is atomic on the event loop. It
sees only this process's writes: more than one instance needs the Redis adapter.
Values never leave the process, so it keeps them as objects (`keeps_objects`):
cache/store.py fills it with frozen entities and pages, which a hit hands out
without decoding anything.

A home page looks up some 100 slots, the same ones request after request. A
lookup of many slots is remembered with the entries it touched and what it
found; the same slots (the same objects, cache/store.py makes one a key) looked
up again while nothing in the cache has changed since find the same, so the
lookup only touches those entries again, in the same order, and hands out what
it found then (`_Replay`). Any change (a fill, a new generation, an
invalidation, a carry, an eviction) ends every remembered lookup.

The bound counts what entries hold, not keys: a kept page (a tuple of up to 51
results, some 28 KiB with its models) counts one per result plus one, so
`max_entries` bounds memory whichever keys fill it. Counted per key, 50,000
first pages of distinct users and page sizes could take more than a gigabyte.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cache.port import Change, Fill, Found, Slot, new_generation

DEFAULT_MAX_ENTRIES = 50_000
GENERATION, VALUE = 0, 1  # what an entry's key names
# Carries a generation remembers: a writer that looked before as many other carries
# as this came between invalidates instead of carrying.
MAX_LINEAGE = 8
# Lookups of at least this many slots are remembered (a home page's ~100; a
# profile's page and owner are one or two, not worth an entry), this many at most.
REPLAYED_SLOTS = 8
MAX_REPLAYS = 256


@dataclass(frozen=True)
class _Carried(Found):
    """A generation made by carries: each step back, the generation it ended and
    the keys whose write ended it, newest first."""

    lineage: tuple[tuple[str | None, frozenset[str]], ...] = ()


def _lineage(generation: Found) -> tuple[tuple[str | None, frozenset[str]], ...]:
    return generation.lineage if isinstance(generation, _Carried) else ()


def _carried_since(current: Found, seen: str, written: frozenset[str]) -> bool:
    """Whether `current` is `seen`, or was made from it by carries only, of other
    keys than `written`: a write of the same keys may have landed in either
    order, and an invalidation (a delete) leaves no lineage to follow."""
    if current.generation == seen:
        return True
    for ended, keys in _lineage(current):
        if keys & written:
            return False
        if ended == seen:
            return True
    return False


@dataclass(frozen=True)
class _Replay:
    """A lookup as it ran: the slots (held, so that no other object takes their
    ids), the entries it touched in order, and what it found."""

    slots: tuple[Slot, ...]
    touched: list[tuple[int, str]]
    found: list[Found]


class MemoryCache:
    keeps_objects = True

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries < 2:
            raise ValueError("a cache needs room for a generation and a value")
        self.max_entries = max_entries
        # (GENERATION, key) -> Found(its token), what a miss returns; (VALUE, key) ->
        # Found(the token it was filled under, the value), what a hit returns. A
        # lookup hands out these (immutable) entries themselves. Pairs, not "g:"
        # + key: a pair hashes the key's string, whose hash it keeps, where a
        # joined string is a new one to hash, some 200 times a feed page.
        self._entries: OrderedDict[tuple[int, str], Found] = OrderedDict()
        self._heavy: dict[tuple[int, str], int] = {}  # each entry's weight, if not 1
        self.weight = 0  # of every entry: at most max_entries once a put returns
        self.changes = 0  # how many times an entry was put or removed
        self._replays: dict[tuple[int, ...], _Replay] = {}  # by the ids of their slots
        self.replayed = 0  # lookups answered by a replay
        self.looked_up = 0  # slots looked up one by one (not replayed)

    def __len__(self) -> int:
        return len(self._entries)

    async def lookup(self, slots: Sequence[Slot]) -> list[Found]:
        if len(slots) < REPLAYED_SLOTS:
            return self._lookup(slots, None)
        ids = tuple(map(id, slots))
        replay = self._replays.get(ids)
        if replay is not None:  # a change since would have forgotten it
            # The same slot objects (`replay` holds them: no other has their ids),
            # the same entries: what the lookup would touch and find again.
            deque(map(self._entries.move_to_end, replay.touched), maxlen=0)
            self.replayed += 1
            return list(replay.found)
        changes = self.changes
        touched: list[tuple[int, str]] = []
        found = self._lookup(slots, touched)
        if self.changes == changes:  # it made no generation: found what it found
            if len(self._replays) >= MAX_REPLAYS:
                self._replays.clear()
            self._replays[ids] = _Replay(tuple(slots), touched, found)
        return found

    def _lookup(self, slots: Sequence[Slot], touched: list[tuple[int, str]] | None) -> list[Found]:
        # Reads inlined: a feed page looks up some 100 slots, nearly each of a
        # generation of its own (one entity a counter), so a generation shared by
        # several slots is simply read again (no await between: the same one).
        self.looked_up += len(slots)
        entries = self._entries
        touch = entries.move_to_end
        note = touched.append if touched is not None else None
        found: list[Found] = []
        for slot in slots:
            generation_key = (GENERATION, slot.generation)
            miss = entries.get(generation_key)
            if miss is None:  # a new generation stamps no value yet
                miss = Found(new_generation())
                self._put(generation_key, miss)
                found.append(miss)
                continue
            touch(generation_key)
            value_key = (VALUE, slot.value)
            hit = entries.get(value_key)
            if note is not None:
                note(generation_key)
                if hit is not None:
                    note(value_key)
            if hit is not None:
                touch(value_key)
                if hit.generation == miss.generation:
                    found.append(hit)
                    continue
            found.append(miss)
        return found

    async def fill(self, fills: Sequence[Fill]) -> None:
        for fill in fills:
            self._put((VALUE, fill.slot.value), Found(fill.generation, fill.value))

    async def invalidate(self, generations: Sequence[str]) -> None:
        for key in generations:
            if self._entries.pop((GENERATION, key), None) is not None:
                self.weight -= 1  # a generation weighs 1
                self._changed()

    async def carry(
        self, generation: str, seen: str, written: frozenset[str], changes: Mapping[str, Change]
    ) -> None:
        # No await: nothing runs between ending the generation and stamping the
        # values carried with the next one (cache/port.py).
        ended = self._entries.pop((GENERATION, generation), None)
        if ended is None:
            return  # no value is current without its generation: nothing to carry
        self.weight -= 1
        self._changed()
        if not _carried_since(ended, seen, written):
            return  # another write came between: an invalidation, then
        lineage = ((ended.generation, written), *_lineage(ended)[: MAX_LINEAGE - 1])
        self._put((GENERATION, generation), _Carried(new_generation(), None, lineage))
        successor = self._entries[(GENERATION, generation)].generation
        for value_key, change in changes.items():
            hit = self._entries.get((VALUE, value_key))
            if hit is None or hit.generation != ended.generation:
                continue
            value = change(hit.value)
            if value is not None:
                self._put((VALUE, value_key), Found(successor, value))

    async def close(self) -> None:
        self._entries.clear()
        self._heavy.clear()
        self.weight = 0
        self._changed()

    def _changed(self) -> None:
        """An entry was put or removed: a remembered lookup may find otherwise now
        (and forgotten at once, its entities are not kept past their eviction)."""
        self.changes += 1
        if self._replays:
            self._replays.clear()

    def _put(self, key: tuple[int, str], entry: Found) -> None:
        self._changed()  # and with it any eviction below
        if key in self._entries:
            self.weight -= self._heavy.pop(key, 1)
        weight = _weight(entry.value)
        if weight != 1:
            self._heavy[key] = weight
        self.weight += weight
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while self.weight > self.max_entries and len(self._entries) > 1:
            evicted, _ = self._entries.popitem(last=False)
            self.weight -= self._heavy.pop(evicted, 1)


def _weight(value: object) -> int:
    """A kept page (cache/frozen.py keeps pages as tuples) weighs its results and
    itself; anything else (an entity, an absence, bytes, a generation) weighs 1."""
    return 1 + len(value) if isinstance(value, tuple) else 1
