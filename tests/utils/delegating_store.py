"""A store port that hands every call to a real store: tests subclass it to watch
or break transactions without patching an adapter."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from store.keys import Key
from store.port import Entity, Query, Result, Store, Transaction


class DelegatingStore:
    def __init__(self, inner: Store) -> None:
        self.inner = inner

    @property
    def round_trips(self) -> int:
        return self.inner.round_trips

    @round_trips.setter
    def round_trips(self, value: int) -> None:
        self.inner.round_trips = value

    async def get_many(self, keys: Sequence[Key]) -> list[Entity | None]:
        return await self.inner.get_many(keys)

    async def put_many(self, entities: Sequence[Entity]) -> None:
        await self.inner.put_many(entities)

    async def delete_many(self, keys: Sequence[Key]) -> None:
        await self.inner.delete_many(keys)

    async def page(self, query: Query, **bounds: Any) -> list[Result]:
        return await self.inner.page(query, **bounds)

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        return self.inner.transaction()

    async def close(self) -> None:
        await self.inner.close()
