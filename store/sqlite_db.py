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

A request's write whose writer is idle runs at once on the calling thread, the
event loop's, on the same write connection (held by a lock the writer thread
takes for each job), as a quick read does: the hop to the writer and back costs
two turns of a busy event loop, which under a mixed load were most of a
mutation's time. It never waits: with a job queued or running, or SQLite's lock
held by another process (a busy timeout of zero for the attempt), it queues for
the writer as before. The queue's workers mark their tasks (`writes_in_background`):
their writes, which may be large, always go to the writer thread. So that a
commit on the loop never checkpoints the WAL (writing and syncing the file),
SQLite's automatic checkpoint is off on the write connection and the writer
thread checkpoints every CHECKPOINT_EVERY commits instead.

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
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

from store.errors import StoreUnavailable
from store.sqlite_files import BUSY_TIMEOUT_MS, open_wal, run_to_end, tune
from store.sqlite_write_txn import (
    BUSY_CODES,
    execute_script,
    in_write_transaction,
    nothing,
    translate,
)

T = TypeVar("T")
Work = Callable[[sqlite3.Connection], T]

READERS = 4


@dataclass
class _Job:
    work: Work[Any]
    future: Future[Any] = field(default_factory=Future)


_STOP = None
CHECKPOINT_EVERY = 200  # commits (a few pages each): about SQLite's 1,000 pages of WAL
# Set by the background work (the queue's workers): its writes always go to the
# writer thread, so that one of its large jobs never runs on the event loop.
_background: ContextVar[bool] = ContextVar("sqlite_background_writes", default=False)


def writes_in_background() -> None:
    """The calling task's writes, and those of tasks it starts from now on, go to
    the writer thread even when it is idle."""
    _background.set(True)


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
        self._writing = threading.Lock()  # held while a job runs, here or on the writer
        self._write_conn: sqlite3.Connection | None = None
        self._commits = 0  # since the last checkpoint

    # -- writes ------------------------------------------------------------------

    async def write(self, work: Work[T]) -> T:
        """Run `work(conn)` in one write transaction: here, when the writer is idle
        and this is no background work (writes_in_background), else on the writer."""
        if not _background.get():
            done, result = self._write_here(work)
            if done:
                return cast(T, result)
        return await asyncio.wrap_future(self._submit(work))

    def _write_here(self, work: Work[T]) -> tuple[bool, T | None]:
        """(True, the result) if the writer was idle and SQLite's lock free at once;
        (False, None) when the work must queue for the writer thread."""
        jobs = self._jobs
        if jobs is None or not jobs.empty() or not self._writing.acquire(blocking=False):
            return False, None
        try:
            conn = self._write_connection()
            conn.execute("PRAGMA busy_timeout=0")
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                if (error.sqlite_errorcode or 0) & 0xFF in BUSY_CODES:
                    return False, None  # another process writes: the writer waits for it
                raise translate(error)  # noqa: B904
            finally:
                conn.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
            self.write_jobs += 1
            try:
                result = work(conn)
                conn.execute("COMMIT")
            except BaseException as error:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise translate(error)  # noqa: B904
            self._commits += 1
        finally:
            self._writing.release()
        if self._commits >= CHECKPOINT_EVERY:
            self._submit(nothing)  # the writer thread checkpoints after it, not the loop
        return True, result

    def _write_connection(self) -> sqlite3.Connection:
        """The one write connection, made by whoever writes first (holding _writing)."""
        if self._write_conn is None:
            self._write_conn = self._connect()
            self._write_conn.execute("PRAGMA wal_autocheckpoint=0")  # _checkpoint's job
        return self._write_conn

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
        while (job := jobs.get()) is not _STOP:
            if not job.future.set_running_or_notify_cancel():
                continue  # its caller was cancelled before it started
            self.write_jobs += 1  # before its caller can see it done
            try:
                with self._writing:
                    conn = self._write_connection()
                    result = in_write_transaction(conn, job.work)
                    self._commits += 1
                    if self._commits >= CHECKPOINT_EVERY:
                        self._checkpoint(conn)
            except BaseException as error:
                job.future.set_exception(translate(error))
            else:
                job.future.set_result(result)

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        """What SQLite's automatic checkpoint did in whichever commit crossed 1,000
        pages of WAL, here on the writer thread: never in a commit made on the event
        loop's thread, which it would hold while it writes and syncs the file."""
        self._commits = 0
        run_to_end(conn, "PRAGMA wal_checkpoint(PASSIVE)")

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
                and (cause.sqlite_errorcode or 0) & 0xFF in BUSY_CODES
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
        with self._writing:
            write_conn, self._write_conn = self._write_conn, None
        if write_conn is not None:
            write_conn.close()
        if pool is not None:
            pool.shutdown(wait=True)
        for conn in conns:
            conn.close()


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
