"""The production store: Cloud Datastore (Firestore in Datastore mode).

google-cloud-datastore honours DATASTORE_EMULATOR_HOST, so the same code runs
against the official emulator in tests and a real project in production. Its calls
are synchronous gRPC, so each one runs in a worker thread.

Queries go through the GAPIC client directly rather than the library's iterator,
because the iterator drops the per-result cursors that Relay edges need.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from google.api_core import exceptions as google_errors
from google.cloud import datastore
from google.cloud.datastore import helpers
from google.cloud.datastore import query as datastore_query
from google.cloud.datastore.query import PropertyFilter

from store.errors import StoreError, StoreUnavailable, TransactionConflict, TransactionTooLarge
from store.keys import Key
from store.port import MAX_BATCH, Entity, Position, Query, Result, Scalar, Transaction, Value

T = TypeVar("T")
MAX_LOOKUP = 1000
PLAIN_ATTEMPTS = 6
# Answers that say "not now" rather than "never": the caller may try again later.
_TRANSIENT = (
    google_errors.ServiceUnavailable,
    google_errors.DeadlineExceeded,
    google_errors.TooManyRequests,
)


class DatastoreStore:
    """The store port over Cloud Datastore."""

    def __init__(
        self, project: str, *, namespace: str | None = None, client: datastore.Client | None = None
    ) -> None:
        self._client = client or datastore.Client(project=project, namespace=namespace)
        self.round_trips = 0
        self.aborted_calls = 0  # calls Datastore refused for contention (benchmarks read it)

    async def _call(self, work: Callable[[], T]) -> T:
        """A call inside a transaction: contention fails the transaction, which
        run_in_transaction retries as a whole."""
        self.round_trips += 1
        try:
            return await asyncio.to_thread(work)
        except (google_errors.Aborted, google_errors.Conflict) as error:
            self.aborted_calls += 1
            raise TransactionConflict(str(error)) from error
        except _TRANSIENT as error:
            raise StoreUnavailable(str(error)) from error
        except google_errors.GoogleAPICallError as error:
            raise StoreError(str(error)) from error

    async def _plain_call(self, work: Callable[[], T]) -> T:
        """A read, or a blind write, outside any transaction: repeating it is
        harmless, so contention (the emulator aborts even plain lookups on a busy
        entity group) is retried here and never reaches a client as a failure of
        the request's reads. What outlasts the retries is StoreUnavailable."""
        for attempt in range(PLAIN_ATTEMPTS):
            try:
                return await self._call(work)
            except TransactionConflict as error:
                last: StoreError = error
            except StoreUnavailable as error:
                last = error
            await asyncio.sleep(random.uniform(0, min(0.05 * 2**attempt, 1.0)))
        raise StoreUnavailable(f"gave up after {PLAIN_ATTEMPTS} attempts: {last}") from last

    def _key(self, key: Key) -> datastore.Key:
        native: datastore.Key = self._client.key(*(part for pair in key.path for part in pair))
        return native

    def _to_native(self, entity: Entity) -> datastore.Entity:
        native = datastore.Entity(
            self._key(entity.key), exclude_from_indexes=sorted(entity.unindexed)
        )
        native.update({name: self._value_to_native(v) for name, v in entity.properties.items()})
        return native

    def _value_to_native(self, value: Value) -> Any:
        if isinstance(value, list):
            return [self._value_to_native(item) for item in value]
        return self._key(value) if isinstance(value, Key) else value

    async def get_many(self, keys: Sequence[Key]) -> list[Entity | None]:
        if not keys:
            return []
        # Datastore looks up at most 1,000 keys a call; bigger batches go in parallel
        # calls (and count as the round trips they are).
        chunks = [keys[i : i + MAX_LOOKUP] for i in range(0, len(keys), MAX_LOOKUP)]
        found = await asyncio.gather(*(self._lookup(chunk) for chunk in chunks))
        by_key = {key: entity for part in found for key, entity in part.items()}
        return [by_key.get(key) for key in keys]

    async def _lookup(self, keys: Sequence[Key]) -> dict[Key, Entity]:
        natives = await self._plain_call(
            lambda: self._client.get_multi([self._key(k) for k in keys])
        )
        return {_from_native_key(n.key): _from_native(n) for n in natives}

    async def put_many(self, entities: Sequence[Entity]) -> None:
        if entities:
            _check_batch(len(entities))
            natives = [self._to_native(e) for e in entities]
            await self._plain_call(lambda: self._client.put_multi(natives))

    async def delete_many(self, keys: Sequence[Key]) -> None:
        if keys:
            _check_batch(len(keys))
            await self._plain_call(lambda: self._client.delete_multi([self._key(k) for k in keys]))

    async def page(
        self,
        query: Query,
        *,
        limit: int,
        after: Position | None = None,
        before: Position | None = None,
        from_end: bool = False,
    ) -> list[Result]:
        if limit <= 0:
            return []
        if not from_end:
            return await self._run_query(query, limit, after, before)
        # Datastore cursors run one way only. Read the tail with the reversed
        # query, then read that span forwards to hand out forward cursors.
        # Our cursors belong to the forward query; the reversed one bounds by value.
        tail = await self._run_query(
            query.reversed(), limit, _value_only(before), _value_only(after)
        )
        if not tail:
            return []
        return await self._run_query(query, len(tail), tail[-1].position, None, from_low=True)

    async def _run_query(
        self,
        query: Query,
        limit: int,
        low: Position | None,
        high: Position | None,
        *,
        from_low: bool = False,
    ) -> list[Result]:
        """Results after `low` (or from it, with `from_low`) and before `high`."""
        native = self._client.query(
            kind=query.kind,
            ancestor=self._key(query.ancestor) if query.ancestor else None,
        )
        for name, value in query.equals:
            native.add_filter(filter=PropertyFilter(name, "=", self._scalar_to_native(value)))
        past, ahead = ("<", ">") if query.descending else (">", "<")
        # A stored cursor is the cheapest way in, but a cursor is bound to the
        # exact query: use it only when no other bound changes the query.
        use_cursor = low is not None and high is None and not from_low
        start_cursor = low.native if low is not None and use_cursor else None
        if low is not None and start_cursor is None:
            operator = past + "=" if from_low else past
            native.add_filter(filter=PropertyFilter(query.order_by, operator, low.value))
        if high is not None:
            native.add_filter(filter=PropertyFilter(query.order_by, ahead, high.value))
        native.order = [("-" if query.descending else "") + query.order_by]
        query_pb = datastore_query._pb_from_query(native)
        query_pb.limit = limit
        if start_cursor is not None:
            query_pb.start_cursor = start_cursor
        request = {"project_id": self._client.project, "query": query_pb}
        if self._client.namespace:
            request["partition_id"] = {
                "project_id": self._client.project,
                "namespace_id": self._client.namespace,
            }
        response = await self._plain_call(
            lambda: self._client._datastore_api.run_query(request=request)
        )
        results = []
        for found in response.batch.entity_results:
            entity = _from_native(helpers.entity_from_protobuf(found.entity._pb))
            value = str(entity.properties.get(query.order_by))
            results.append(Result(entity, Position(value, bytes(found.cursor))))
        return results

    def _scalar_to_native(self, value: Scalar) -> Any:
        return self._key(value) if isinstance(value, Key) else value

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        native = self._client.transaction()
        await self._call(native.begin)
        tx = _DatastoreTransaction(self, native)
        try:
            yield tx
        except BaseException:
            # A failed rollback must not hide why the transaction stopped; an
            # abandoned transaction expires on its own.
            with contextlib.suppress(google_errors.GoogleAPICallError):
                await asyncio.to_thread(native.rollback)
            raise
        _check_batch(len(native.mutations))
        await self._call(native.commit)

    async def close(self) -> None:
        await asyncio.to_thread(self._client.close)


class _DatastoreTransaction:
    def __init__(self, store: DatastoreStore, native: Any) -> None:
        self._store = store
        self._native = native

    async def get_many(self, keys: Sequence[Key]) -> list[Entity | None]:
        client = self._store._client
        natives = await self._store._call(
            lambda: client.get_multi([self._store._key(k) for k in keys], transaction=self._native)
        )
        by_key = {_from_native_key(n.key): _from_native(n) for n in natives}
        return [by_key.get(key) for key in keys]

    def put_many(self, entities: Sequence[Entity]) -> None:
        for entity in entities:
            self._native.put(self._store._to_native(entity))

    def delete_many(self, keys: Sequence[Key]) -> None:
        for key in keys:
            self._native.delete(self._store._key(key))


def _check_batch(size: int) -> None:
    if size > MAX_BATCH:
        raise TransactionTooLarge(f"{size} entities in one commit; the limit is {MAX_BATCH}")


def _value_only(position: Position | None) -> Position | None:
    return Position(position.value) if position is not None else None


def _from_native_key(native: datastore.Key) -> Key:
    return Key(tuple((kind, str(name)) for kind, name in _pairs(native.flat_path)))


def _pairs(flat: tuple[Any, ...]) -> list[tuple[str, Any]]:
    return [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]


def _from_native(native: datastore.Entity) -> Entity:
    return Entity(
        _from_native_key(native.key),
        {name: _value_from_native(value) for name, value in native.items()},
        frozenset(native.exclude_from_indexes),
    )


def _value_from_native(value: Any) -> Value:
    if isinstance(value, list):
        return [_value_from_native(item) for item in value]  # type: ignore[misc]
    if isinstance(value, datastore.Key):
        return _from_native_key(value)
    return value  # type: ignore[no-any-return]
