"""Where cached values live (cache/port.py `Slot`), and which generations a write
ends: an entity's slot by its key, a first page's by its list and its shape.

- entities by key of `ENTITY_KINDS`, one generation each, except a counter's
  shards, which share theirs;
- the first pages of an ancestor query of `PAGE_KINDS`, one generation for all
  the first pages of a list (its kind under its ancestor), one value per shape
  (order and page size).

A write of a key ends its entity's generation and, for a kind in `PAGE_KINDS`,
the generations of the lists of each of its ancestors (cache/store.py).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from cache.port import Slot
from store.counters import SHARD_KIND
from store.keys import Key
from store.models import PHOTO, USER, USERNAME
from store.port import Query
from store.social_models import FEED_ITEM, FOLLOWING, LIKE

# Persisted queries (persisted_queries.py) never change: on Redis every instance
# finds a document another one stored without reading the store.
PERSISTED_QUERY = "PersistedQuery"
ENTITY_KINDS = frozenset({USER, USERNAME, PHOTO, SHARD_KIND, LIKE, FOLLOWING, PERSISTED_QUERY})
PAGE_KINDS = frozenset({PHOTO, FEED_ITEM})
# A client's page is at most 50 (+1 to tell hasNextPage); jobs read more, and
# those pages are not worth a cache entry.
MAX_CACHED_PAGE = 51


def entity_slot(key: Key) -> Slot:
    return slot_at(key.path)


# By the key's path: a page asks for the same keys again and again, and a tuple of
# strs hashes in C (a Key's hash is a Python call).
@functools.lru_cache(maxsize=65_536)
def slot_at(path: tuple[tuple[str, str], ...]) -> Slot:
    key = Key(path)
    name = "e:" + key.encode()
    if key.kind == SHARD_KIND:
        # A counter's shards are read together, so they share one generation: a
        # write to any shard ends them all, and a counter costs one entry fewer a shard.
        return Slot("c:" + key.name.rpartition("#")[0], name)
    return Slot(name, name)


def pages_of(kind: str, ancestor: Key) -> str:
    """The generation of the first pages of the list of `kind` under `ancestor`."""
    return f"q:{kind}:{ancestor.encode()}"


def page_slot(query: Query, limit: int) -> Slot | None:
    """The slot of a first page of `query`, or None if such a page is not cached."""
    if (
        query.kind not in PAGE_KINDS
        or query.ancestor is None
        or query.equals
        or not 0 < limit <= MAX_CACHED_PAGE
    ):
        return None
    generation = pages_of(query.kind, query.ancestor)
    return Slot(generation, generation + shape(query, limit))


@functools.lru_cache(maxsize=256)
def shape(query: Query, limit: int) -> str:
    """What tells a first page of a list from its other first pages."""
    return f":{query.order_by}:{'desc' if query.descending else 'asc'}:{limit}"


def generations_written(keys: Iterable[Key]) -> list[str]:
    """What a write of `keys` invalidates: each cached key, and the pages that list it."""
    generations: dict[str, None] = {}
    for key in keys:
        if key.kind in ENTITY_KINDS:
            generations[entity_slot(key).generation] = None
        if key.kind in PAGE_KINDS:
            for depth in range(1, len(key.path)):
                generations[pages_of(key.kind, Key(key.path[:depth]))] = None
    return list(generations)
