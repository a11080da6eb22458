"""The embedded store: one SQLite file in WAL mode.

Every entity is a row (encoded key, kind, entity group, JSON properties). Queries
filter and sort with json_extract over expression indexes that are created the
first time a query shape is seen, as Datastore builds its single-property indexes
without being asked. SQLite calls block, so each one runs in a worker thread on a
pooled connection and the event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from store.errors import TransactionTooLarge
from store.keys import Key
from store.port import MAX_BATCH, Entity, Position, Query, Result, Transaction
from store.sqlite_faults import sqlite_errors
from store.sqlite_files import open_wal
from store.sqlite_values import dump_properties, load_properties, sql_scalar

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entities (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    grp TEXT NOT NULL,
    props TEXT NOT NULL
) WITHOUT ROWID;
"""


def _connect(path: str) -> sqlite3.Connection:
    return open_wal(path)


class _ConnectionPool:
    def __init__(self, path: str, size: int) -> None:
        self._path = path
        self._idle: list[sqlite3.Connection] = []
        self._all: list[sqlite3.Connection] = []
        self._slots = asyncio.Semaphore(size)
        self._lock = threading.Lock()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[sqlite3.Connection]:
        async with self._slots:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                conn = await asyncio.to_thread(_connect, self._path)
                self._all.append(conn)
            try:
                yield conn
            finally:
                with self._lock:
                    self._idle.append(conn)

    def close(self) -> None:
        for conn in self._all:
            conn.close()
        self._all.clear()
        self._idle.clear()


class SQLiteStore:
    """The store port over a local SQLite file."""

    def __init__(self, path: Path | str, *, pool_size: int = 4) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        setup = _connect(self.path)
        setup.executescript(_SCHEMA)
        setup.close()
        self._pool = _ConnectionPool(self.path, pool_size)
        self._known_indexes: set[str] = set()
        self.round_trips = 0

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        self.round_trips += 1
        async with self._pool.connection() as conn:
            with sqlite_errors(self.path):
                return await asyncio.to_thread(work, conn)

    async def get_many(self, keys: Sequence[Key]) -> list[Entity | None]:
        if not keys:
            return []
        return await self._run(lambda conn: _select_keys(conn, keys))

    async def put_many(self, entities: Sequence[Entity]) -> None:
        if entities:
            _check_batch(len(entities))
            await self._run(
                lambda conn: _in_write_transaction(conn, lambda: _upsert(conn, entities))
            )

    async def delete_many(self, keys: Sequence[Key]) -> None:
        if keys:
            _check_batch(len(keys))
            await self._run(lambda conn: _in_write_transaction(conn, lambda: _delete(conn, keys)))

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
        scan = query.reversed() if from_end else query
        low, high = (before, after) if from_end else (after, before)
        sql, params = _select_page(scan, low, high, limit)
        index_sql = _index_for(query)

        def work(conn: sqlite3.Connection) -> list[Result]:
            if index_sql not in self._known_indexes:
                conn.execute(index_sql)
                self._known_indexes.add(index_sql)
            rows = conn.execute(sql, params).fetchall()
            return [_result(key, props, value) for key, props, value in rows]

        results = await self._run(work)
        return results[::-1] if from_end else results

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self._pool.connection() as conn:
            self.round_trips += 1
            # Still locked after the busy timeout: a TransactionConflict; a full or
            # read-only disk: StoreUnavailable, which no retry loop takes for a conflict.
            with sqlite_errors(self.path):
                await asyncio.to_thread(conn.execute, "BEGIN IMMEDIATE")
            tx = _SQLiteTransaction(self, conn)
            try:
                yield tx
                self.round_trips += 1
                await asyncio.to_thread(tx.commit)
            except BaseException:
                # A failed COMMIT (I/O error, full disk) may have rolled back already.
                if conn.in_transaction:
                    await asyncio.to_thread(conn.execute, "ROLLBACK")
                raise

    async def close(self) -> None:
        self._pool.close()


class _SQLiteTransaction:
    def __init__(self, store: SQLiteStore, conn: sqlite3.Connection) -> None:
        self._store = store
        self._conn = conn
        self._puts: dict[Key, Entity] = {}
        self._deletes: set[Key] = set()

    async def get_many(self, keys: Sequence[Key]) -> list[Entity | None]:
        self._store.round_trips += 1
        with sqlite_errors(self._store.path):
            return await asyncio.to_thread(_select_keys, self._conn, keys)

    def put_many(self, entities: Sequence[Entity]) -> None:
        for entity in entities:
            self._deletes.discard(entity.key)
            self._puts[entity.key] = entity

    def delete_many(self, keys: Sequence[Key]) -> None:
        for key in keys:
            self._puts.pop(key, None)
            self._deletes.add(key)

    def commit(self) -> None:
        _check_batch(len(self._puts) + len(self._deletes))
        with sqlite_errors(self._store.path):
            _upsert(self._conn, list(self._puts.values()))
            _delete(self._conn, list(self._deletes))
            self._conn.execute("COMMIT")


def _check_batch(size: int) -> None:
    if size > MAX_BATCH:
        raise TransactionTooLarge(f"{size} entities in one commit; the limit is {MAX_BATCH}")


def _in_write_transaction(conn: sqlite3.Connection, work: Callable[[], None]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        work()
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _select_keys(conn: sqlite3.Connection, keys: Sequence[Key]) -> list[Entity | None]:
    encoded = [key.encode() for key in keys]
    found: dict[str, str] = {}
    # SQLite caps bound parameters; Datastore batches are at most 1000 keys anyway.
    for start in range(0, len(encoded), 500):
        chunk = encoded[start : start + 500]
        marks = ",".join("?" * len(chunk))
        found.update(conn.execute(f"SELECT key, props FROM entities WHERE key IN ({marks})", chunk))
    return [
        Entity(key, load_properties(found[text])) if text in found else None
        for key, text in zip(keys, encoded, strict=True)
    ]


def _upsert(conn: sqlite3.Connection, entities: Sequence[Entity]) -> None:
    conn.executemany(
        "INSERT INTO entities(key, kind, grp, props) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET props = excluded.props",
        [
            (e.key.encode(), e.key.kind, e.key.root.encode(), dump_properties(e.properties))
            for e in entities
        ],
    )


def _delete(conn: sqlite3.Connection, keys: Sequence[Key]) -> None:
    conn.executemany("DELETE FROM entities WHERE key = ?", [(key.encode(),) for key in keys])


def _prop(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unsupported property name {name!r}")
    return f"json_extract(props, '$.{name}')"


def _index_for(query: Query) -> str:
    columns = ["kind"]
    if query.ancestor is not None:
        columns.append("grp")
    columns += [_prop(name) for name, _ in query.equals]
    columns.append(_prop(query.order_by))
    digest = hashlib.sha1(",".join(columns).encode()).hexdigest()[:16]
    return f"CREATE INDEX IF NOT EXISTS auto_{digest} ON entities({', '.join(columns)})"


def _select_page(
    query: Query, low: Position | None, high: Position | None, limit: int
) -> tuple[str, list[Any]]:
    """`low` and `high` bound the scan in the scan's own order: results come after
    `low` and before `high`."""
    order = _prop(query.order_by)
    where = ["kind = ?", f"{order} IS NOT NULL"]
    params: list[Any] = [query.kind]
    if query.ancestor is not None:
        ancestor = query.ancestor.encode()
        where.append("grp = ?")
        params.append(query.ancestor.root.encode())
        if query.ancestor.parent is None:
            where.append("key != ?")
            params.append(ancestor)
        else:
            # Descendants' keys start with the ancestor's key and a separator.
            where += ["key > ?", "key < ?"]
            params += [ancestor + "/", ancestor + "0"]
    for name, value in query.equals:
        where.append(f"{_prop(name)} = ?")
        params.append(sql_scalar(value))
    past, before_ = ("<", ">") if query.descending else (">", "<")
    if low is not None:
        where.append(f"{order} {past} ?")
        params.append(low.value)
    if high is not None:
        where.append(f"{order} {before_} ?")
        params.append(high.value)
    direction = "DESC" if query.descending else "ASC"
    sql = (
        f"SELECT key, props, {order} FROM entities WHERE {' AND '.join(where)} "
        f"ORDER BY {order} {direction} LIMIT ?"
    )
    return sql, [*params, limit]


def _result(key: str, props: str, value: Any) -> Result:
    return Result(Entity(Key.decode(key), load_properties(props)), Position(str(value)))
