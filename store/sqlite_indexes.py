"""The embedded store's query indexes: one per query shape and kind, over the rows
of that kind only.

Every entity is a row of one table, whatever its kind. An index over the whole
table (`kind, grp, json_extract(props, '$.sort_key')`) has an entry for every row
of every kind, so each write of any entity had to update every query shape's
index, and each of those indexes grew with all the data: under a mixed load a
commit wrote some 25 pages of WAL where 9 do with these (measured on a file left
by `bench_load`), and half its time went to indexes its kind is never queried by.
A partial index (`WHERE kind = 'FeedItem'`) holds its kind's rows alone: a write
updates the indexes of its own kind's queries and no other, and an index is as
large as its kind. SQLite uses a partial index only for a query whose WHERE names
the same kind literally (a bound parameter does not imply it), so the query's SQL
spells the kind out (kinds are identifiers, checked here, never user input).

A file made before these indexes has the old ones over every row; they are
dropped once when the store opens it (`drop_indexes_over_every_kind`), and the
partial ones are created as queries need them, as before.
"""

from __future__ import annotations

import hashlib
import sqlite3

from store.port import Query

# How the adapter names the indexes it creates itself (store/sqlite.py).
AUTO_PREFIX = "auto_"


def prop(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unsupported property name {name!r}")
    return f"json_extract(props, '$.{name}')"


def kind_is(kind: str) -> str:
    """`kind = '<kind>'` with the kind spelled out, as a partial index needs it."""
    if not kind.replace("_", "").isalnum():
        raise ValueError(f"unsupported kind {kind!r}")
    return f"kind = '{kind}'"


def index_for(query: Query) -> str:
    """The statement that creates the index `query`'s shape reads, over its kind."""
    columns = ["grp"] if query.ancestor is not None else []
    columns += [prop(name) for name, _ in query.equals]
    columns.append(prop(query.order_by))
    where = kind_is(query.kind)
    digest = hashlib.sha1(f"{where}:{','.join(columns)}".encode()).hexdigest()[:16]
    return (
        f"CREATE INDEX IF NOT EXISTS {AUTO_PREFIX}{digest} "
        f"ON entities({', '.join(columns)}) WHERE {where}"
    )


def drop_indexes_over_every_kind(conn: sqlite3.Connection) -> None:
    """Drops the adapter's indexes made before they were partial (no WHERE): each
    write of any kind would still update them."""
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entities' "
        "AND name LIKE ? ESCAPE '\\'",
        (AUTO_PREFIX.replace("_", "\\_") + "%",),
    ).fetchall()
    for name, sql in rows:
        if " WHERE " not in sql:
            conn.execute(f'DROP INDEX "{name}"')
