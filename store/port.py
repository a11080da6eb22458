"""The persistence port: what resolvers and task handlers may ask of a store.

It speaks Cloud Datastore's model so that both adapters can honour it: keys with
paths, entity groups, batch get by key, ancestor queries (strongly consistent),
global queries (eventually consistent on Datastore), cursors and transactions.
There are no joins and no offsets.

Queries page by one ordered string property whose value is unique among the
query's results (a "sort key"); that gives every result a stable position that
survives inserts and deletes, and lets a page start after or stop before any
position in either direction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from store.keys import Key

Scalar = str | int | float | bool | None | datetime | bytes | Key
Value = Scalar | list[Scalar]

# Datastore commits at most 500 entities at once; both adapters hold to it.
MAX_BATCH = 500


@dataclass
class Entity:
    key: Key
    properties: Mapping[str, Value] = field(default_factory=dict)
    # Properties never filtered or sorted on; Datastore caps indexed strings at 1500 bytes.
    unindexed: frozenset[str] = frozenset()
    # Models made from this entity (store/models.py), by model type: a dict only on
    # an entity that never changes, one the in-process cache hands to every reader
    # (cache/frozen.py), so that a hit does not build the same model again.
    derived: dict[type, object] | None = field(default=None, init=False, compare=False, repr=False)


@dataclass(frozen=True)
class Query:
    kind: str
    order_by: str
    descending: bool = True
    ancestor: Key | None = None
    equals: tuple[tuple[str, Scalar], ...] = ()

    def reversed(self) -> Query:
        return replace(self, descending=not self.descending)


@dataclass(frozen=True)
class Position:
    """Where a result stands in its query: its sort key and, on Datastore, the
    query cursor after it. Both are pure functions of the result's place."""

    value: str
    native: bytes | None = None


@dataclass(frozen=True)
class Result:
    entity: Entity
    position: Position


class Transaction(Protocol):
    """Reads see the groups as they were when the transaction began; writes are
    applied together at commit, or not at all. A commit fails (TransactionConflict)
    when an entity it read was written meanwhile; a write to another entity of a
    group it read may or may not make it fail (the emulator and legacy Datastore
    validate per group, Firestore in Datastore mode and SQLite per entity), so
    code must be right either way."""

    async def get_many(self, keys: Sequence[Key]) -> list[Entity | None]: ...

    def put_many(self, entities: Sequence[Entity]) -> None: ...

    def delete_many(self, keys: Sequence[Key]) -> None: ...


class Store(Protocol):
    round_trips: int

    async def get_many(self, keys: Sequence[Key]) -> list[Entity | None]: ...

    async def put_many(self, entities: Sequence[Entity]) -> None: ...

    async def delete_many(self, keys: Sequence[Key]) -> None: ...

    async def page(
        self,
        query: Query,
        *,
        limit: int,
        after: Position | None = None,
        before: Position | None = None,
        from_end: bool = False,
    ) -> list[Result]:
        """Up to `limit` results strictly between `after` and `before`, in query
        order: the first ones, or with `from_end` the last ones. Every position
        returned belongs to `query` as given, whichever end was read."""
        ...

    def transaction(self) -> AbstractAsyncContextManager[Transaction]: ...

    async def close(self) -> None: ...
