"""What a SQLite error means to the rest of the app.

Two kinds matter and must never be confused:

- lock contention (SQLITE_BUSY, SQLITE_LOCKED): another writer holds the file; the
  transaction may run again, so it becomes a TransactionConflict;
- the disk or the file itself (full, read-only, I/O error, corrupt, cannot open):
  running again at once changes nothing, so it becomes a StoreUnavailable that
  names the file and the cause, for the log, and a coded UNAVAILABLE for clients.

Anything else (a bad statement, a constraint) is a bug and stays as it is.

    with sqlite_errors(path):
        conn.execute(...)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from store.errors import StoreError, StoreUnavailable, TransactionConflict

_CONTENTION = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
_CAUSES = {
    sqlite3.SQLITE_FULL: "the disk is full (or the file reached its size limit)",
    sqlite3.SQLITE_READONLY: "the file or its directory is read-only",
    sqlite3.SQLITE_IOERR: "the disk failed a read or a write (full, read-only or failing)",
    sqlite3.SQLITE_CORRUPT: "the file is corrupt",
    sqlite3.SQLITE_NOTADB: "the file is not a SQLite database",
    sqlite3.SQLITE_CANTOPEN: "the file cannot be opened",
}


def classify(error: sqlite3.Error, path: str) -> StoreError | None:
    """The store error `error` stands for, or None when it is a plain bug."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return None
    primary = code & 0xFF  # extended codes keep the primary one in the low byte
    if primary in _CONTENTION:
        return TransactionConflict(str(error))
    cause = _CAUSES.get(primary)
    if cause is None:
        return None
    name = getattr(error, "sqlite_errorname", str(code))
    return StoreUnavailable(f"the embedded store {path} is unavailable: {cause} ({name}: {error})")


@contextmanager
def sqlite_errors(path: str) -> Iterator[None]:
    """Re-raise SQLite errors of the block as the store errors they stand for."""
    try:
        yield
    except sqlite3.Error as error:
        translated = classify(error, path)
        if translated is None:
            raise
        raise translated from error
