"""No statement is left running on the embedded file's write connection for a
cursor's destructor to end: a write statement in progress there makes every
COMMIT fail ("cannot commit transaction - SQL statements in progress", seen at
the queue's claims under bench_load while a profiler held every object with
gc.get_objects()), for as long as anything holds its cursor."""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Callable
from pathlib import Path

from store.sqlite_db import CHECKPOINT_EVERY, SQLiteDatabase

Job = Callable[[sqlite3.Connection], None]


def _keep_cursors_of(kept: list[sqlite3.Cursor], statement: str) -> Job:
    """A job that makes the write connection keep, in `kept`, every cursor alive on
    it whenever `statement` starts, as gc.get_objects() in another thread would."""

    def install(conn: sqlite3.Connection) -> None:
        def traced(sql: str) -> None:
            if sql.startswith(statement):
                kept.extend(c for c in gc.get_referrers(conn) if isinstance(c, sqlite3.Cursor))

        conn.set_trace_callback(traced)

    return install


def _insert(n: int) -> Job:
    def insert(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO t VALUES (?)", (n,))

    return insert


def test_writes_commit_after_a_checkpoint_whose_cursor_is_still_held(tmp_path: Path) -> None:
    database = SQLiteDatabase(tmp_path / "timeline.db")
    try:
        database.write_blocking(lambda conn: conn.execute("CREATE TABLE t(n INTEGER)"))
        kept: list[sqlite3.Cursor] = []
        database.write_blocking(_keep_cursors_of(kept, "PRAGMA wal_checkpoint"))
        for n in range(CHECKPOINT_EVERY + 1):  # the writer checkpoints once among them
            database.write_blocking(_insert(n))
        assert kept, "no checkpoint ran"
        (count,) = database.read_blocking(
            lambda conn: conn.execute("SELECT COUNT(*) FROM t").fetchone()
        )
        assert count == CHECKPOINT_EVERY + 1
    finally:
        database.close()
