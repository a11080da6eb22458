"""Small writes that share one job on the SQLite writer, while it is busy.

The background work writes in many small pieces: each task enqueued by a relay,
each finished delivery, each run-log line is one short statement. As jobs of
their own, each costs a turn of the one writer thread (store/sqlite_db.py) and a
wake-up of the event loop, and every request's commit queues behind them:
under `bench_load` they were more than half of the writer's jobs.

A `WriteBatches` runs the pieces submitted to it as one job: a piece submitted
while the previous job is queued or running waits for the next one, which takes
every piece waiting when the writer reaches it (up to `limit`). So under load
many pieces share a job, and an idle writer still takes a lone piece at once.
Each piece runs inside a savepoint of the job's transaction: a piece that fails
is undone alone and raises to its own caller; the others commit. A failure of the
whole job (the file cannot serve) reaches every piece in it.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from store.sqlite_db import SQLiteDatabase, writes_in_background
from store.sqlite_write_txn import translate

T = TypeVar("T")
Piece = Callable[[sqlite3.Connection], T]

BATCH_LIMIT = 500  # pieces a job takes at most, so that no job holds the writer long


@dataclass
class _Waiting:
    piece: Piece[Any]
    answer: asyncio.Future[Any]


@dataclass
class _Taken:
    """The pieces one job took, and each one's outcome (a result or an error)."""

    pieces: list[_Waiting] = field(default_factory=list)
    outcomes: list[tuple[bool, Any]] = field(default_factory=list)


class WriteBatches:
    def __init__(self, db: SQLiteDatabase, *, limit: int = BATCH_LIMIT) -> None:
        self._db = db
        self._limit = limit
        self._lock = threading.Lock()  # the writer thread takes what the loop adds
        self._waiting: list[_Waiting] = []
        self._flushing: asyncio.Task[None] | None = None
        self.jobs = 0  # writer jobs run so far: how many pieces shared one shows in tests

    async def write(self, piece: Piece[T]) -> T:
        """Run `piece(conn)` on the writer, in a job shared with other pieces."""
        answer: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        with self._lock:
            self._waiting.append(_Waiting(piece, answer))
        flushing = self._flushing
        if flushing is None or flushing.done() or flushing.get_loop() is not answer.get_loop():
            self._flushing = asyncio.create_task(self._flush())
        return await answer

    async def _flush(self) -> None:
        """Jobs one after the other until nothing waits: while one runs, the next
        one's pieces gather."""
        writes_in_background()  # up to `limit` pieces: never a job for the event loop
        try:
            while self._waiting:
                taken = _Taken()
                try:
                    await self._db.write(functools.partial(self._run, taken=taken))
                except BaseException as error:
                    if not taken.pieces:  # the job failed before it took them
                        taken.pieces = self._take()
                    for waiting in taken.pieces:
                        _settle(waiting.answer, False, error)
                    if not isinstance(error, Exception):
                        raise
                    continue
                for waiting, (ok, value) in zip(taken.pieces, taken.outcomes, strict=True):
                    _settle(waiting.answer, ok, value)
        finally:
            self._flushing = None

    def _run(self, conn: sqlite3.Connection, *, taken: _Taken) -> None:
        """On the writer thread, inside its transaction."""
        taken.pieces = self._take()
        for waiting in taken.pieces:
            conn.execute("SAVEPOINT piece")
            try:
                result = waiting.piece(conn)
            except Exception as error:
                if not conn.in_transaction:
                    raise  # SQLite undid the whole transaction (a full disk, an I/O error)
                conn.execute("ROLLBACK TO piece")
                taken.outcomes.append((False, translate(error)))
            else:
                taken.outcomes.append((True, result))
            conn.execute("RELEASE piece")
        self.jobs += 1

    def _take(self) -> list[_Waiting]:
        with self._lock:
            pieces = self._waiting[: self._limit]
            del self._waiting[: self._limit]
        return pieces


def _settle(answer: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if answer.done():  # its caller was cancelled; the write stands or fell all the same
        return
    if ok:
        answer.set_result(value)
    else:
        answer.set_exception(value)


_shared: weakref.WeakKeyDictionary[SQLiteDatabase, WriteBatches] = weakref.WeakKeyDictionary()
_shared_lock = threading.Lock()


def shared_batches(db: SQLiteDatabase) -> WriteBatches:
    """The one `WriteBatches` of `db`, so that the queue's, the workers' and the run
    log's pieces share jobs."""
    with _shared_lock:
        batches = _shared.get(db)
        if batches is None:
            batches = _shared[db] = WriteBatches(db)
        return batches
