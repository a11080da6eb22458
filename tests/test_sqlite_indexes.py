"""The embedded store's query indexes hold one kind each: a write updates the
indexes of its own kind's queries, not every query shape's (store/sqlite_indexes.py).
SQLite only: Datastore's indexes are per kind already (index.yaml)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from store.keys import Key
from store.port import Entity, Position, Query
from store.sqlite import _SCHEMA, SQLiteStore, _select_page

USER = Key.of("User", "u1")
# The shapes a mixed load queries (a feed page, a user's photos and devices, a
# feed's items of one owner, an owner's pending activities, counter deltas).
QUERIES = [
    Query(kind="FeedItem", order_by="sort_key", ancestor=USER),
    Query(kind="FeedItem", order_by="sort_key", ancestor=USER, equals=(("owner_id", "u2"),)),
    Query(kind="Photo", order_by="sort_key", ancestor=USER),
    Query(kind="Device", order_by="sort_key", ancestor=USER),
    Query(kind="Activity", order_by="sort_key", descending=False, equals=(("owner", "u2"),)),
    Query(kind="CounterDelta", order_by="sort_key", descending=False),
]


def checkpoint(path: Path, mode: str) -> tuple[int, int]:
    """(busy, pages in the WAL since it was last emptied: what the commits since wrote)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        busy, frames, _ = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
    finally:
        conn.close()
    return int(busy), int(frames)


def wal_frames(path: Path) -> int:
    return checkpoint(path, "PASSIVE")[1]


def empty_the_wal(path: Path) -> None:
    assert checkpoint(path, "TRUNCATE") == (0, 0)


async def test_a_write_updates_only_the_indexes_of_its_kind(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    store = SQLiteStore(path)
    for query in QUERIES:  # each shape's index is made the first time it is queried
        assert await store.page(query, limit=5) == []
    empty_the_wal(path)
    like = Entity(USER.child("Like", "p1"), {"sort_key": "1", "owner": "u2", "owner_id": "u2"})
    await store.put_many([like])
    # The row alone: no query reads Likes (each query shape's index over every
    # kind, four here, took a page of its own as well).
    assert wal_frames(path) == 1
    empty_the_wal(path)
    item = Entity(USER.child("FeedItem", "i1"), {"sort_key": "2", "owner_id": "u2"})
    await store.put_many([item])
    assert wal_frames(path) == 1 + 2  # the row, and the two FeedItem shapes' indexes
    assert [r.entity for r in await store.page(QUERIES[1], limit=5)] == [item]
    await store.close()


async def test_every_query_shape_reads_an_index_range(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    store = SQLiteStore(path)
    for query in QUERIES:
        await store.page(query, limit=5)
    conn = sqlite3.connect(path)
    for query in QUERIES:
        sql, params = _select_page(query, Position("5"), None, 5)
        plan = " ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
        # A search of the shape's own index, already in order: no scan, no sort.
        assert plan.startswith("SEARCH entities USING INDEX auto_"), plan
        assert "TEMP B-TREE" not in plan, plan
    conn.close()
    await store.close()


async def test_indexes_over_every_kind_from_an_earlier_version_are_dropped(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(_SCHEMA)
    # As an earlier version made and named (kind, grp, sort_key)'s index.
    conn.execute(
        "CREATE INDEX auto_0cd9ca390ac1d59b "
        "ON entities(kind, grp, json_extract(props, '$.sort_key'))"
    )
    conn.close()
    store = SQLiteStore(path)
    await store.page(QUERIES[0], limit=5)
    conn = sqlite3.connect(path)
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entities' "
        "AND sql IS NOT NULL"
    ).fetchall()
    conn.close()
    assert [sql.split(" WHERE ")[1] for _, sql in indexes] == ["kind = 'FeedItem'"]
    await store.close()
