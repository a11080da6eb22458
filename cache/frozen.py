"""Cached values as objects, for a cache that keeps them inside this process
(cache/memory.py): a hit hands out what was cached, with nothing to decode.

Every reader that hits a value shares it, so a value must never change once it
is cached. An entity is kept as a copy whose properties are a read-only mapping
(its key and its unindexed names are immutable already; `Entity.properties` is
typed `Mapping`, so no caller may assign into it either), and a page as a tuple
of such results, of which each hit gets a list of its own. A list inside a
read-only mapping could still be changed, so an entity with a list-valued
property (no cached kind has one today) is kept as bytes and decoded on each
hit, as a shared cache would. A kept entity keeps the models made from it too
(`Entity.derived`, store/models.py): a hit does not build the same `Photo` again.

The cache bounds its entries by count, as it did for bytes; an entity object
takes more memory than its JSON (docs/PERFORMANCE.md has the figures).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType

from cache.codec import Codec, dump_entity, dump_results, load_entity, load_results
from store.keys import Key
from store.port import Entity, Result


class _Absent:
    """What the cache keeps for a key with no entity (None would read as a miss)."""


ABSENT = _Absent()


def _shareable(entity: Entity) -> bool:
    return not any(type(value) is list for value in entity.properties.values())


def _frozen(entity: Entity) -> Entity:
    # A copy: the caller that filled the cache keeps its entity, and may change it.
    frozen = Entity(entity.key, MappingProxyType(dict(entity.properties)), entity.unindexed)
    frozen.derived = {}  # it never changes, so neither do the models made from it
    return frozen


def keep_entity(entity: Entity | None) -> object:
    if entity is None:
        return ABSENT
    return _frozen(entity) if _shareable(entity) else dump_entity(entity)


def kept_entity(value: object, key: Key) -> Entity | None:
    if value is ABSENT:
        return None
    if isinstance(value, Entity):
        return value
    return load_entity(value, key)


def keep_results(results: Sequence[Result]) -> object:
    if not all(_shareable(result.entity) for result in results):
        return dump_results(results)
    return tuple(Result(_frozen(result.entity), result.position) for result in results)


def kept_results(value: object) -> list[Result]:
    if isinstance(value, tuple):
        return list(value)
    return load_results(value)


OBJECTS = Codec(keep_entity, kept_entity, keep_results, kept_results)
