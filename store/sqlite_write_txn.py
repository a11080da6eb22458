"""The writer's transactions on the embedded SQLite file, and what its errors mean.

Every write job (store/sqlite_db.py) runs inside BEGIN IMMEDIATE .. COMMIT, made
here; a SQLite error that says the file cannot serve now (busy past the timeout
of another process, read-only, full, corrupt) becomes StoreUnavailable, which
clients see as UNAVAILABLE with a retry hint; anything else passes through.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TypeVar

from store.errors import StoreUnavailable

T = TypeVar("T")

BEGIN_ATTEMPTS = 3  # each waits out the busy timeout (only another process holds the lock)
RETRY_AFTER_SECONDS = 1

# Primary result codes that say the file cannot serve now, rather than a bug.
UNAVAILABLE_CODES = {
    5: "busy",  # SQLITE_BUSY: another process holds the lock past the busy timeout
    6: "locked",
    8: "read-only",
    10: "I/O error",
    11: "corrupt",
    13: "full",
    14: "cannot open",
    15: "locking protocol",
    26: "not a database",
}
BUSY_CODES = {5, 6}


def nothing(conn: sqlite3.Connection) -> None:
    """A job that only wakes the writer thread (for its checkpoint)."""


def execute_script(conn: sqlite3.Connection, script: str) -> None:
    """Statements one by one: executescript() would commit the writer's transaction."""
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def translate(error: BaseException) -> BaseException:
    """A SQLite error that says the file cannot serve now becomes StoreUnavailable;
    anything else (a bug, a conflict raised by a job) passes through as it is."""
    if isinstance(error, sqlite3.Error):
        code = (error.sqlite_errorcode or 0) & 0xFF
        if code in UNAVAILABLE_CODES:
            unavailable = StoreUnavailable(
                f"the database file cannot serve now ({UNAVAILABLE_CODES[code]}): {error}",
                retry_after_seconds=RETRY_AFTER_SECONDS,
            )
            unavailable.__cause__ = error
            return unavailable
    return error


def in_write_transaction(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    begin_immediate(conn)
    try:
        result = work(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


def begin_immediate(conn: sqlite3.Connection) -> None:
    for attempt in range(BEGIN_ATTEMPTS):
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            busy = (error.sqlite_errorcode or 0) & 0xFF in BUSY_CODES
            if not busy or attempt == BEGIN_ATTEMPTS - 1:
                raise
            # The busy timeout has already waited once; wait it out again.
