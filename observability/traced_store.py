"""The store port with a span around each round trip (tracing on only).

A decorator chosen in app wiring (app.py), so the adapters know nothing of
tracing. It opens a span only for a call that reaches the store, skipping the
ones the adapters answer without a round trip (no keys, a limit of 0, a
transaction that wrote nothing), so that a request's store spans are its
`round_trips`. On Datastore a call that is retried after contention, or a lookup
of more than 1,000 keys, is one span and several round trips.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from opentelemetry.trace import SpanKind, Tracer

from store.keys import Key
from store.port import Entity, Query, Result, Store, Transaction

_CLIENT = SpanKind.CLIENT


class TracedStore:
    def __init__(self, inner: Store, tracer: Tracer) -> None:
        self.inner = inner
        self._tracer = tracer

    @property
    def round_trips(self) -> int:
        return self.inner.round_trips

    @round_trips.setter
    def round_trips(self, value: int) -> None:
        self.inner.round_trips = value

    async def get_many(self, keys: Sequence[Key]) -> list[Entity | None]:
        if not keys:
            return await self.inner.get_many(keys)
        with self._span("store.get_many", len(keys), keys[0].kind):
            return await self.inner.get_many(keys)

    async def put_many(self, entities: Sequence[Entity]) -> None:
        if not entities:
            return await self.inner.put_many(entities)
        with self._span("store.put_many", len(entities), entities[0].key.kind):
            await self.inner.put_many(entities)

    async def delete_many(self, keys: Sequence[Key]) -> None:
        if not keys:
            return await self.inner.delete_many(keys)
        with self._span("store.delete_many", len(keys), keys[0].kind):
            await self.inner.delete_many(keys)

    async def page(self, query: Query, *, limit: int, **bounds: Any) -> list[Result]:
        if limit <= 0:
            return await self.inner.page(query, limit=limit, **bounds)
        with self._span("store.page", limit, query.kind):
            return await self.inner.page(query, limit=limit, **bounds)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        inner = self.inner.transaction()
        tx = _TracedTransaction(await inner.__aenter__(), self)
        try:
            yield tx
        except BaseException as error:
            if not await inner.__aexit__(type(error), error, error.__traceback__):
                raise
            return
        if not tx.writes:  # nothing to commit: no round trip
            await inner.__aexit__(None, None, None)
            return
        with self._span("store.commit", tx.writes, None):
            await inner.__aexit__(None, None, None)

    async def close(self) -> None:
        await self.inner.close()

    def _span(self, name: str, count: int, kind: str | None) -> Any:
        attributes: dict[str, str | int] = {
            "db.system": "timeline.store",
            "timeline.store.count": count,
        }
        if kind is not None:
            attributes["timeline.store.kind"] = kind
        return self._tracer.start_as_current_span(name, kind=_CLIENT, attributes=attributes)


class _TracedTransaction:
    def __init__(self, inner: Transaction, store: TracedStore) -> None:
        self._inner = inner
        self._store = store
        self.writes = 0

    async def get_many(self, keys: Sequence[Key]) -> list[Entity | None]:
        with self._store._span(
            "store.transaction.get_many", len(keys), keys[0].kind if keys else None
        ):
            return await self._inner.get_many(keys)

    def put_many(self, entities: Sequence[Entity]) -> None:
        self.writes += len(entities)
        self._inner.put_many(entities)

    def delete_many(self, keys: Sequence[Key]) -> None:
        self.writes += len(keys)
        self._inner.delete_many(keys)
