"""One process at a time on the embedded store's file.

The embedded store, its task queue (leases) and its cron scheduler (slots) keep
their state in one SQLite file and coordinate inside one process. Two processes on
the same file (`uvicorn --workers 2`) would each run workers and a scheduler, and
contend for SQLite's write lock; so the second one is refused at start, with a
message that says why and what to do. The lock is an advisory `flock` on a file
beside the store (`timeline.db.lock`, holding the owner's pid); the kernel drops it
when its process exits, even on SIGKILL, so a crash never leaves it stale.

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


@contextmanager
def exclusive_use(path: Path) -> Iterator[None]:
    """Hold the embedded file for this process, or raise StoreInUse at once."""
    lock = lock_path(path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            refusal = StoreInUse(_refusal(path, lock, os.pread(fd, 32, 0)))
            log.critical("%s", refusal)
            raise refusal from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the lock


def _refusal(path: Path, lock: Path, holder: bytes) -> str:
    pid = holder.decode(errors="replace").strip()
    who = f"process {pid}" if pid.isdigit() else "another process"
    return (
        f"refusing to start: {who} already runs on the embedded store {path} "
        f"(it holds {lock}). The embedded store, its task queue and its cron scheduler "
        "work from one process only, so run one server process on it (uvicorn without "
        "--workers, or --workers 1) and stop the other one first. To serve from several "
        "processes or machines, use Cloud Datastore and Cloud Tasks "
        "(TIMELINE_STORE=datastore, TIMELINE_TASKS=cloudtasks)."
    )
