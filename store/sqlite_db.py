"""The one way into the embedded SQLite file: a single writer thread, a pool of readers.

The store, the task queue (leases, run log, cron slots) and the push outbox all keep
their tables in one file. Every write in the process is a short synchronous
function handed to the one writer thread, which runs it inside BEGIN IMMEDIATE ..
COMMIT on the only write connection. The write lock is therefore held only while
such functions run, never across an await and never while waiting for a thread:
no lock convoy can form. Each job is its own SQLite transaction: grouping queued
jobs into one commit was measured and gained nothing (with synchronous=NORMAL a
WAL commit does not wait for the disk), so a failing job can only undo itself.
The background's many small writes (enqueues, settled deliveries, run-log lines)
are the exception: they share jobs (store/sqlite_batches.py), because each job
costs the event loop a wake-up and every request's commit a place in the queue.

Reads run on a bounded pool of reader threads of its own (not asyncio's default
executor), each in one read transaction so that its statements agree. WAL lets
them proceed while the writer writes. Reader connections are `query_only`: a write
that strays onto one fails loudly instead of taking the lock.

A quick read (`read(work, quick=True)`: a few keys, one page of an indexed query)
first runs on the calling thread, the event loop's, on a connection of that
thread's whose busy timeout is zero: SQLite answers it in microseconds, which is
less than the hop to a reader thread and back costs. Such a connection never
waits: should SQLite answer "busy" (a WAL reader can meet it while the WAL index
is rebuilt, or while another process holds the file exclusively), the work goes
to a reader thread, which waits out the busy timeout as before. Anything that may
take long (scans of the task queue, integrity checks, creating an index) never
runs here.

One instance per file per process (`shared_database`); `close()` releases the
threads and connections, and a later call opens them again.
"""

from __future__ import annotations

import asyncio
import os
import queue
import sqlite3
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

from store.errors import StoreUnavailable
from store.sqlite_files import BUSY_TIMEOUT_MS, open_wal, tune

T = TypeVar("T")
Work = Callable[[sqlite3.Connection], T]

READERS = 4
BEGIN_ATTEMPTS = 3  # each waits out the busy timeout (only another process holds the lock)
RETRY_AFTER_SECONDS = 1

# Primary result codes that say the file cannot serve now, rather than a bug.
_UNAVAILABLE_CODES = {
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
_BUSY_CODES = {5, 6}


@dataclass
class _Job:
    work: Work[Any]
    future: Future[Any] = field(default_factory=Future)


_STOP = None


class SQLiteDatabase:
    def __init__(
        self,
        path: Path | str,
        *,
        readers: int = READERS,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
    ) -> None:
        self.path = str(path)  # nothing is opened (nor created) before the first call
        self._busy_timeout_ms = busy_timeout_ms
        self._readers = readers
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[_Job | None] | None = None
        self._writer: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._inline = threading.local()  # the quick reads' connection, per calling thread
        self._reader_conns: list[sqlite3.Connection] = []
        self._schemas: set[str] = set()
        self.write_jobs = 0  # jobs the writer ran: what tests count, as round trips

    # -- writes ------------------------------------------------------------------

    async def write(self, work: Work[T]) -> T:
        """Run `work(conn)` on the writer inside one write transaction."""
        return await asyncio.wrap_future(self._submit(work))

    def write_blocking(self, work: Work[T]) -> T:
        """For command-line tools and set-up, which have no event loop to keep free."""
        return self._submit(work).result()

    def ensure_schema(self, script: str) -> None:
        """Create tables and indexes once per instance (statements separated by ';')."""
        if script in self._schemas:
            return
        self.write_blocking(lambda conn: execute_script(conn, script))
        self._schemas.add(script)

    def _submit(self, work: Work[T]) -> Future[T]:
        job = _Job(work)
        with self._lock:
            if self._jobs is None:
                self._jobs = queue.SimpleQueue()
                self._writer = threading.Thread(
                    target=self._write_loop, args=(self._jobs,), name="sqlite-writer", daemon=True
                )
                self._writer.start()
            self._jobs.put(job)
        return job.future

    def _write_loop(self, jobs: queue.SimpleQueue[_Job | None]) -> None:
        conn: sqlite3.Connection | None = None
        while (job := jobs.get()) is not _STOP:
            if not job.future.set_running_or_notify_cancel():
                continue  # its caller was cancelled before it started
            self.write_jobs += 1  # before its caller can see it done
            try:
                if conn is None:
                    conn = self._connect()
                result = _in_write_transaction(conn, job.work)
            except BaseException as error:
                job.future.set_exception(translate(error))
            else:
                job.future.set_result(result)
        if conn is not None:
            conn.close()

    # -- reads -------------------------------------------------------------------

    async def read(self, work: Work[T], *, quick: bool = False) -> T:
        """Run `work(conn)` in one read transaction, on a reader; when `quick`, on
        the calling thread if SQLite can answer without waiting."""
        if quick:
            answered, result = self._read_here(work)
            if answered:
                return cast(T, result)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reader_pool(), self._read, work)

    def _read_here(self, work: Work[T]) -> tuple[bool, T | None]:
        """(True, the result), or (False, None) when SQLite was busy."""
        try:
            return True, self._read(work, self._inline, self._connect_inline)
        except StoreUnavailable as error:
            cause = error.__cause__
            if (
                isinstance(cause, sqlite3.Error)
                and (cause.sqlite_errorcode or 0) & 0xFF in _BUSY_CODES
            ):
                return False, None
            raise

    def read_blocking(self, work: Work[T]) -> T:
        return self._reader_pool().submit(self._read, work).result()

    def _reader_pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._readers, thread_name_prefix="sqlite-read")
                self._local = threading.local()
            return self._pool

    def _read(
        self,
        work: Work[T],
        connections: threading.local | None = None,
        connect: Callable[[], sqlite3.Connection] | None = None,
    ) -> T:
        """`work` in a read transaction on this thread's connection (a reader's, or
        the quick reads' of `connections`, made by `connect`)."""
        local = connections if connections is not None else self._local
        try:
            conn: sqlite3.Connection | None = getattr(local, "conn", None)
            if conn is None:
                conn = (connect or self._connect_reader)()
                local.conn = conn
            conn.execute("BEGIN")
            try:
                return work(conn)
            finally:
                conn.execute("COMMIT")
        except sqlite3.Error as error:
            raise translate(error)  # noqa: B904 (translate sets the cause, or is the error)

    # -- lifetime ----------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        return open_wal(self.path, busy_timeout_ms=self._busy_timeout_ms)

    def _connect_reader(self) -> sqlite3.Connection:
        return self._register(open_wal(self.path, busy_timeout_ms=self._busy_timeout_ms))

    def _connect_inline(self) -> sqlite3.Connection:
        """Not through open_wal, which may sleep while another connection switches
        the file to WAL: the writer has made the file a WAL one already (schema)."""
        conn = sqlite3.connect(self.path, timeout=0, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA busy_timeout=0")
        return self._register(tune(conn))

    def _register(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        conn.execute("PRAGMA query_only=ON")
        with self._lock:
            self._reader_conns.append(conn)
        return conn

    def close(self) -> None:
        """Finish what was submitted, then close the threads and connections."""
        with self._lock:
            jobs, writer, self._jobs, self._writer = self._jobs, self._writer, None, None
            pool, self._pool = self._pool, None
            conns, self._reader_conns = self._reader_conns, []
            self._inline = threading.local()
        if jobs is not None and writer is not None:
            jobs.put(_STOP)
            writer.join()
        if pool is not None:
            pool.shutdown(wait=True)
        for conn in conns:
            conn.close()


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
        if code in _UNAVAILABLE_CODES:
            unavailable = StoreUnavailable(
                f"the database file cannot serve now ({_UNAVAILABLE_CODES[code]}): {error}",
                retry_after_seconds=RETRY_AFTER_SECONDS,
            )
            unavailable.__cause__ = error
            return unavailable
    return error


def _in_write_transaction(conn: sqlite3.Connection, work: Work[T]) -> T:
    _begin_immediate(conn)
    try:
        result = work(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


def _begin_immediate(conn: sqlite3.Connection) -> None:
    for attempt in range(BEGIN_ATTEMPTS):
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            busy = (error.sqlite_errorcode or 0) & 0xFF in _BUSY_CODES
            if not busy or attempt == BEGIN_ATTEMPTS - 1:
                raise
            # The busy timeout has already waited once; wait it out again.


_shared: weakref.WeakValueDictionary[str, SQLiteDatabase] = weakref.WeakValueDictionary()
_shared_lock = threading.Lock()


def shared_database(path: Path | str) -> SQLiteDatabase:
    """The process's one instance for the file at `path`."""
    real = os.path.realpath(path)
    with _shared_lock:
        database = _shared.get(real)
        if database is None:
            database = SQLiteDatabase(path)
            _shared[real] = database
        return database
