"""Which processes may run on the embedded store's file, and which one leads.

Several server processes may share one file (`python -m serve --workers N`): every
write is a short `BEGIN IMMEDIATE` transaction on a process's writer, and a
transaction's optimistic check reads the groups' versions inside it, so writes
from any process stay correct. What must run once, not once per process (the
queue's workers, the cron scheduler, the start-up outbox sweep, demo data), runs
in one process: the *leader*. The others serve requests and enqueue into the
file's queue, which the leader's workers poll.

A process that keeps state of its own about the file that other processes' writes
would make stale (the in-process cache, cache/memory.py) must be alone on it. So
a claim is *exclusive* or *shared*, and two advisory `flock`s say who is there:

    timeline.db.lock     LOCK_EX by an exclusive process, LOCK_SH by each shared one:
                         an exclusive process is refused beside anyone, a shared one
                         beside an exclusive one (StoreInUse, with what to do). It
                         holds the leader's pid, for that message.
    timeline.db.leader   LOCK_EX by the leader. A shared follower tries for it again
                         every second (`try_lead`) and takes over the background work
                         when the leader is gone.

The kernel drops both locks when their process exits, even on SIGKILL, so a crash
never leaves one stale and a follower takes over within a second.

Command-line tools that only read the file (`python -m taskqueue.runs`) take no lock,
nor does `python -m taskqueue.admin`, whose few short writes wait for SQLite's write
lock (busy timeout) beside the running app's.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from store.errors import StoreInUse

log = logging.getLogger("timeline.store")


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def leader_path(path: Path) -> Path:
    return path.with_name(path.name + ".leader")


class FileClaim:
    """This process's place on one embedded file: member, and perhaps leader."""

    def __init__(self, path: Path, *, shared: bool) -> None:
        self.path = path
        self.shared = shared
        self._member = _open(lock_path(path))
        self._leader: int | None = None
        try:
            mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
            if not _try_flock(self._member, mode):
                raise self._refused()
            if not shared:
                self._leader = self._member  # alone on the file, so leading it
                self._write_pid()
            elif not self.try_lead():
                log.info(
                    "serving %s beside process %s, which runs background work", path, self._holder()
                )
        except BaseException:
            self.close()
            raise

    @property
    def leads(self) -> bool:
        return self._leader is not None

    def try_lead(self) -> bool:
        """Lead if no other process does (now, without waiting); whether this one leads."""
        if self._leader is not None:
            return True
        fd = _open(leader_path(self.path))
        if not _try_flock(fd, fcntl.LOCK_EX):
            os.close(fd)
            return False
        self._leader = fd
        self._write_pid()
        return True

    def close(self) -> None:
        """Give up the file (closing the last descriptor releases a lock)."""
        if self._leader is not None and self._leader != self._member:
            os.close(self._leader)
        self._leader = None
        if self._member >= 0:
            os.close(self._member)
            self._member = -1

    def _write_pid(self) -> None:
        # Written before truncating, so that a reader never finds it empty.
        record = f"{os.getpid()}\n".encode()
        os.pwrite(self._member, record, 0)
        os.ftruncate(self._member, len(record))

    def _holder(self) -> str:
        pid = os.pread(self._member, 32, 0).decode(errors="replace").strip()
        return pid if pid.isdigit() else "?"

    def _refused(self) -> StoreInUse:
        refusal = StoreInUse(_refusal(self.path, lock_path(self.path), self._holder(), self.shared))
        log.critical("%s", refusal)
        return refusal


@contextmanager
def claim_file(path: Path, *, shared: bool) -> Iterator[FileClaim]:
    """Hold the embedded file for the block, or raise StoreInUse at once."""
    claim = FileClaim(path, shared=shared)
    try:
        yield claim
    finally:
        claim.close()


def _open(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)


def _try_flock(fd: int, mode: int) -> bool:
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _refusal(path: Path, lock: Path, pid: str, shared: bool) -> str:
    who = f"process {pid}" if pid.isdigit() else "another process"
    if shared:
        why = (
            f"{who} runs alone on it, with a cache in its own memory that other processes' "
            "writes would leave stale"
        )
    else:
        why = (
            f"{who} already runs on it, and this one keeps a cache in its own memory "
            "(TIMELINE_CACHE=memory) that other processes' writes would leave stale"
        )
    return (
        f"refusing to start on the embedded store {path}: {why} (see {lock}). To serve "
        "from several processes, start them as one server, `python -m serve --workers N` "
        "(which turns the in-process cache off), or give every process TIMELINE_CACHE=off "
        "(uvicorn --workers N); otherwise stop the other one first. To serve from several "
        "machines, use Cloud Datastore and Cloud Tasks "
        "(TIMELINE_STORE=datastore, TIMELINE_TASKS=cloudtasks)."
    )
