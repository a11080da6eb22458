"""Blobs as files under one directory (var/media by default), served by the app.

Writes go to a temporary file in the same directory, are flushed to disk, then
renamed into place: a reader sees the whole blob or none, and a crash leaves no
half-written image under a real name. What a crash does leave, a temporary file
under no record's name, is removed when a store next opens the directory, once it
is older than any write still under way in another process could be.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from clock import system_seconds
from media.blobs import all_done, check_name, is_valid_name

URL_PREFIX = "/media/"
WRITERS = 6  # files written at once: two uploads' three sizes
INCOMING_PREFIX = ".incoming-"
# A write takes milliseconds; a temporary file this old was left by a killed process.
STALE_INCOMING_SECONDS = 3600.0
log = logging.getLogger("timeline.media")


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._writers = ThreadPoolExecutor(WRITERS, thread_name_prefix="blob-write")
        # Files' mtimes are the machine's wall clock, not the app's (a test's) clock.
        remove_stale_incoming(root, now=system_seconds())

    def path_of(self, name: str) -> Path | None:
        """The file for `name`, or None for a name that is not ours (so a request
        path can be checked here before it becomes a file path)."""
        return self.root / name if is_valid_name(name) else None

    async def put(self, name: str, data: bytes, content_type: str) -> None:
        target = self.root / check_name(name)
        await asyncio.to_thread(self._write, target, data)

    def start_put_many(self, blobs: Mapping[str, tuple[bytes, str]]) -> Future[None]:
        # Side by side, on threads of our own (the image work hands them over,
        # then takes the next image): each write waits for its fsync, and fsyncs
        # that wait together share the file system's journal commits.
        writes = [(self.root / check_name(name), data) for name, (data, _) in blobs.items()]
        return all_done([self._writers.submit(self._write, *write) for write in writes])

    def _write(self, target: Path, data: bytes) -> None:
        descriptor, temporary = tempfile.mkstemp(dir=self.root, prefix=INCOMING_PREFIX)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    async def get(self, name: str) -> bytes | None:
        path = self.root / check_name(name)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def delete(self, names: Sequence[str]) -> None:
        paths = [self.root / check_name(name) for name in names]

        def unlink_all() -> None:
            for path in paths:
                path.unlink(missing_ok=True)

        await asyncio.to_thread(unlink_all)

    def url(self, name: str) -> str:
        return URL_PREFIX + check_name(name)


def remove_stale_incoming(root: Path, *, now: float) -> int:
    """Removes the temporary files under `root` older than STALE_INCOMING_SECONDS
    (what a process killed in the middle of a write left); returns how many."""
    removed = 0
    for path in root.glob(f"{INCOMING_PREFIX}*"):
        try:
            if now - path.stat().st_mtime > STALE_INCOMING_SECONDS:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # another process removed it first
            continue
    if removed:
        log.warning("removed %d unfinished blob file(s) a killed process left in %s", removed, root)
    return removed
