"""Cached values as bytes: entities (or their absence) and pages of results.

JSON with the store's tagged values (store/sqlite_values.py), never pickle, so a
cache anyone else can write to cannot make this process run code. `Codec` names
the four conversions CachedStore makes; `BYTES` is this one, for a cache shared
with other processes (cache/frozen.py has the one for a cache inside this process).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from store.keys import Key
from store.port import Entity, Position, Result
from store.sqlite_values import dump_properties, load_properties

# Part of every key: instances of two versions sharing one Redis never read each other's.
FORMAT = "v1"


def _entity_json(entity: Entity) -> dict[str, Any]:
    return {
        "key": entity.key.encode(),
        "props": dump_properties(entity.properties),
        "unindexed": sorted(entity.unindexed),
    }


def _entity_from_json(raw: dict[str, Any], key: Key | None = None) -> Entity:
    return Entity(
        key or Key.decode(raw["key"]), load_properties(raw["props"]), frozenset(raw["unindexed"])
    )


def dump_entity(entity: Entity | None) -> bytes:
    """An entity, or the fact that there is none (cached too: most counter shards
    and every unknown username are absent)."""
    return json.dumps(_entity_json(entity) if entity else None).encode()


_ABSENT = json.dumps(None).encode()


def load_entity(data: object, key: Key | None = None) -> Entity | None:
    """`key`: the key `data` was cached under, when the caller has it (then the
    entity's own is not decoded again: they are equal)."""
    data = _checked(data)
    if data == _ABSENT:  # most of a feed page's counter shards: no parse for them
        return None
    raw = json.loads(data)
    return _entity_from_json(raw, key) if raw is not None else None


def _bytes_or_none(text: str | None) -> bytes | None:
    return base64.b64decode(text) if text is not None else None


def dump_results(results: Sequence[Result]) -> bytes:
    return json.dumps(
        [
            {
                "entity": _entity_json(result.entity),
                "value": result.position.value,
                "native": base64.b64encode(result.position.native).decode()
                if result.position.native is not None
                else None,
            }
            for result in results
        ]
    ).encode()


def load_results(data: object) -> list[Result]:
    return [
        Result(
            _entity_from_json(raw["entity"]),
            Position(raw["value"], _bytes_or_none(raw["native"])),
        )
        for raw in json.loads(_checked(data))
    ]


def _checked(data: object) -> bytes:
    if not isinstance(data, bytes):
        raise TypeError(f"expected cached bytes, got {type(data).__name__}")
    return data


class Codec(NamedTuple):
    """How CachedStore turns what it caches into cache values, and back."""

    dump_entity: Callable[[Entity | None], object]
    load_entity: Callable[[object, Key], Entity | None]
    dump_results: Callable[[Sequence[Result]], object]
    load_results: Callable[[object], list[Result]]


BYTES = Codec(dump_entity, load_entity, dump_results, load_results)
