"""The embedded store: one SQLite file in WAL mode.

Every entity is a row (encoded key, kind, entity group, JSON properties). Queries
filter and sort with json_extract over expression indexes, one per query shape and
kind (store/sqlite_indexes.py), created the first time a query shape is seen, as
Datastore builds its single-property indexes without being asked. All SQL runs
through the file's one access layer (store/sqlite_db.py): reads on its reader
pool, writes on its single writer.

Transactions are optimistic, validated per entity, as Firestore in Datastore mode
does (legacy Datastore, and its emulator, validate per entity group; see
docs/ARCHITECTURE.md, "The embedded write path"). A transaction's reads run on a
reader, without any lock, and keep what each key held (its stored properties, or
its absence); a later read also checks that the keys read before still hold the
same, so a transaction never sees two moments at once. At exit the writes and what
was read go to the writer in one job: if any key read holds something else now,
TransactionConflict (run_in_transaction retries); otherwise the writes apply. Since
every read is re-checked on the writer, the transaction behaves as if all its
reads happened at its commit: serializable, whatever happened in between. A write
to another entity of the same group does not conflict. No SQLite lock is held
while the transaction's code awaits.
"""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from store.errors import TransactionConflict, TransactionTooLarge
from store.keys import Key
from store.port import MAX_BATCH, Entity, Position, Query, Result, Transaction
from store.sqlite_db import SQLiteDatabase, shared_database
from store.sqlite_indexes import drop_indexes_over_every_kind, index_for, kind_is, prop
from store.sqlite_values import dump_properties, load_properties, sql_scalar

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entities (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    grp TEXT NOT NULL,
    props TEXT NOT NULL
) WITHOUT ROWID;
"""
# An encoded key -> its stored properties when the transaction read it (None: absent).
Seen = dict[str, str | None]
# Files whose indexes over every kind were dropped by this process (once a file).
_reindexed: weakref.WeakSet[SQLiteDatabase] = weakref.WeakSet()


class SQLiteStore:
    """The store port over a local SQLite file."""

    def __init__(self, file: Path | str | SQLiteDatabase) -> None:
        self.database = file if isinstance(file, SQLiteDatabase) else shared_database(file)
        self.path = self.database.path
        self.database.ensure_schema(_SCHEMA)
        if self.database not in _reindexed:
            self.database.write_blocking(drop_indexes_over_every_kind)
            _reindexed.add(self.database)
        self._known_indexes: set[str] = set()
        self.round_trips = 0

    async def get_many(self, keys: Sequence[Key]) -> list[Entity | None]:
        if not keys:
            return []
        self.round_trips += 1
        return await self.database.read(lambda conn: _select_keys(conn, keys), quick=True)

    async def put_many(self, entities: Sequence[Entity]) -> None:
        if entities:
            _check_batch(len(entities))
            self.round_trips += 1
            await self.database.write(lambda conn: _apply(conn, entities, ()))

    async def delete_many(self, keys: Sequence[Key]) -> None:
        if keys:
            _check_batch(len(keys))
            self.round_trips += 1
            await self.database.write(lambda conn: _apply(conn, (), keys))

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
        index_sql = index_for(query)
        if index_sql not in self._known_indexes:
            await self.database.write(lambda conn: conn.execute(index_sql))
            self._known_indexes.add(index_sql)

        def work(conn: sqlite3.Connection) -> list[Result]:
            rows = conn.execute(sql, params).fetchall()
            return [_result(key, props, value) for key, props, value in rows]

        self.round_trips += 1
        results = await self.database.read(work, quick=True)
        return results[::-1] if from_end else results

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        tx = _SQLiteTransaction(self)
        yield tx
        puts, deletes = list(tx.puts.values()), list(tx.deletes)
        if not puts and not deletes:
            return  # nothing to commit; the reads were already consistent
        _check_batch(len(puts) + len(deletes))
        seen = dict(tx.seen)
        self.round_trips += 1
        await self.database.write(lambda conn: _commit(conn, seen, puts, deletes))

    async def close(self) -> None:
        self.database.close()


class _SQLiteTransaction:
    def __init__(self, store: SQLiteStore) -> None:
        self._store = store
        self.seen: Seen = {}
        self.puts: dict[Key, Entity] = {}
        self.deletes: set[Key] = set()

    async def get_many(self, keys: Sequence[Key]) -> list[Entity | None]:
        self._store.round_trips += 1
        seen = dict(self.seen)
        entities, read = await self._store.database.read(
            lambda conn: _snapshot(conn, keys, seen), quick=True
        )
        self.seen.update(read)
        return entities

    def put_many(self, entities: Sequence[Entity]) -> None:
        for entity in entities:
            self.deletes.discard(entity.key)
            self.puts[entity.key] = entity

    def delete_many(self, keys: Sequence[Key]) -> None:
        for key in keys:
            self.puts.pop(key, None)
            self.deletes.add(key)


def _snapshot(
    conn: sqlite3.Connection, keys: Sequence[Key], seen: Seen
) -> tuple[list[Entity | None], Seen]:
    """The entities and what their keys held; TransactionConflict if a key the
    transaction read earlier holds something else now."""
    encoded = [key.encode() for key in keys]
    rows = _rows(conn, set(encoded) | seen.keys())
    _check_unchanged(seen, rows)
    return _entities(keys, encoded, rows), {text: rows.get(text) for text in encoded}


def _commit(
    conn: sqlite3.Connection, seen: Seen, puts: Sequence[Entity], deletes: Sequence[Key]
) -> None:
    """On the writer: validate the keys read, then apply the writes."""
    _check_unchanged(seen, _rows(conn, seen.keys()))
    _apply(conn, puts, deletes)


def _check_unchanged(seen: Seen, current: dict[str, str]) -> None:
    for text, props in seen.items():
        if current.get(text) != props:
            raise TransactionConflict(f"entity {text} changed since the transaction read it")


def _apply(conn: sqlite3.Connection, puts: Sequence[Entity], deletes: Sequence[Key]) -> None:
    _upsert(conn, puts)
    _delete(conn, deletes)


def _check_batch(size: int) -> None:
    if size > MAX_BATCH:
        raise TransactionTooLarge(f"{size} entities in one commit; the limit is {MAX_BATCH}")


def _select_keys(conn: sqlite3.Connection, keys: Sequence[Key]) -> list[Entity | None]:
    encoded = [key.encode() for key in keys]
    return _entities(keys, encoded, _rows(conn, encoded))


def _rows(conn: sqlite3.Connection, encoded: Iterable[str]) -> dict[str, str]:
    """Encoded key -> stored properties, for the keys that exist."""
    wanted = list(encoded)
    found: dict[str, str] = {}
    # SQLite caps bound parameters; Datastore batches are at most 1000 keys anyway.
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        found.update(conn.execute(f"SELECT key, props FROM entities WHERE key IN ({marks})", chunk))
    return found


def _entities(
    keys: Sequence[Key], encoded: Sequence[str], rows: dict[str, str]
) -> list[Entity | None]:
    return [
        Entity(key, load_properties(rows[text])) if text in rows else None
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


def _select_page(
    query: Query, low: Position | None, high: Position | None, limit: int
) -> tuple[str, list[Any]]:
    """`low` and `high` bound the scan in the scan's own order: results come after
    `low` and before `high`."""
    order = prop(query.order_by)
    # The kind spelled out, not bound: SQLite picks a partial index only so.
    where = [kind_is(query.kind), f"{order} IS NOT NULL"]
    params: list[Any] = []
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
        where.append(f"{prop(name)} = ?")
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
