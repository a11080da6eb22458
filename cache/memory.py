"""The embedded cache: a bounded LRU in this process (the default on one machine).

Generations and values share one LRU; evicting either is safe (cache/port.py).
Every operation runs without awaiting, so each is atomic on the event loop. It
sees only this process's writes: more than one instance needs the Redis adapter.
Values never leave the process, so it keeps them as objects (`keeps_objects`):
cache/store.py fills it with frozen entities and pages, which a hit hands out
without decoding anything.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from cache.port import Fill, Found, Slot, new_generation

DEFAULT_MAX_ENTRIES = 50_000


class MemoryCache:
    keeps_objects = True

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries < 2:
            raise ValueError("a cache needs room for a generation and a value")
        self.max_entries = max_entries
        # "g:<key>" -> generation token; "v:<key>" -> (token, value)
        self._entries: OrderedDict[str, str | tuple[str, object]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def lookup(self, slots: Sequence[Slot]) -> list[Found]:
        # Reads inlined: a feed page looks up some 260 slots (counter shards mostly),
        # and the calls were most of the lookup's time. Same steps, same LRU order.
        entries = self._entries
        touch = entries.move_to_end
        found: list[Found] = []
        for slot in slots:
            generation_key = "g:" + slot.generation
            generation = entries.get(generation_key)
            if generation is not None:
                touch(generation_key)
            if not isinstance(generation, str):
                generation = new_generation()
                self._put(generation_key, generation)
                found.append(Found(generation))
                continue
            value_key = "v:" + slot.value
            stamped = entries.get(value_key)
            if stamped is not None:
                touch(value_key)
            if isinstance(stamped, tuple) and stamped[0] == generation:
                found.append(Found(generation, stamped[1]))
            else:
                found.append(Found(generation))
        return found

    async def fill(self, fills: Sequence[Fill]) -> None:
        for fill in fills:
            self._put("v:" + fill.slot.value, (fill.generation, fill.value))

    async def invalidate(self, generations: Sequence[str]) -> None:
        for key in generations:
            self._entries.pop("g:" + key, None)

    async def close(self) -> None:
        self._entries.clear()

    def _put(self, key: str, entry: str | tuple[str, object]) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
