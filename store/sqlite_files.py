"""Opening the embedded SQLite file: the store, the task queue and the push outbox
share one file in WAL mode, so they open it the same way."""

from __future__ import annotations

import sqlite3
import time
from typing import Literal

BUSY_TIMEOUT_MS = 10_000
_WAL_ATTEMPTS = 50

IsolationLevel = Literal["DEFERRED", "IMMEDIATE", "EXCLUSIVE"] | None


def open_wal(path: str, *, isolation_level: IsolationLevel = None) -> sqlite3.Connection:
    """A connection in WAL mode with a busy timeout. Switching a brand-new file to
    WAL can fail with "database is locked" when another connection does the same at
    that moment, without waiting on the busy timeout; it is retried briefly."""
    conn = sqlite3.connect(
        path,
        timeout=BUSY_TIMEOUT_MS / 1000,
        check_same_thread=False,
        isolation_level=isolation_level,
    )
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    for attempt in range(_WAL_ATTEMPTS):
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == _WAL_ATTEMPTS - 1:
                conn.close()
                raise
            time.sleep(0.005 * (attempt + 1))
    # Commits survive a killed process without an fsync each (WAL keeps them).
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn
