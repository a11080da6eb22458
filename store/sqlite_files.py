"""Opening the embedded SQLite file in WAL mode (store/sqlite_db.py opens every
connection of the process through this)."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

BUSY_TIMEOUT_MS = 10_000
_WAL_ATTEMPTS = 50
# Pages each connection keeps in memory, in KiB (SQLite's default is 2 MiB). A
# feed page reads a few hundred keys; once the file outgrows the cache those are
# system calls, and a reply costs more as the data grows. A cache takes only
# what it holds, so a small file keeps a small one.
CACHE_KIB = 64 * 1024


def run_to_end(conn: sqlite3.Connection, statement: str) -> list[Any]:
    """Runs `statement` to its end and returns its rows. A PRAGMA that writes and
    answers a row (journal_mode, wal_checkpoint) is a write statement still in
    progress until its row is fetched or its cursor reset; left to the cursor's
    destructor, it stays in progress for as long as anything holds the cursor (a
    profiler's gc.get_objects(), a traceback), and every COMMIT on the connection
    meanwhile fails with "cannot commit transaction - SQL statements in progress"."""
    return conn.execute(statement).fetchall()


def tune(conn: sqlite3.Connection) -> sqlite3.Connection:
    """What every connection to the file is given, however it was opened."""
    conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    return conn


def open_wal(path: str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> sqlite3.Connection:
    """A connection in WAL mode with a busy timeout, in autocommit mode (callers
    begin their transactions themselves). Switching a brand-new file to
    WAL can fail with "database is locked" when another connection does the same at
    that moment, without waiting on the busy timeout; it is retried briefly."""
    conn = sqlite3.connect(
        path,
        timeout=busy_timeout_ms / 1000,
        check_same_thread=False,
        isolation_level=None,
    )
    conn.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    for attempt in range(_WAL_ATTEMPTS):
        try:
            run_to_end(conn, "PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == _WAL_ATTEMPTS - 1:
                conn.close()
                raise
            time.sleep(0.005 * (attempt + 1))
    # Commits survive a killed process without an fsync each (WAL keeps them).
    conn.execute("PRAGMA synchronous=NORMAL")
    return tune(conn)
