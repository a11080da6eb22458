"""Blobs as files under one directory (var/media by default), served by the app.

Writes go to a temporary file in the same directory, are flushed to disk, then
renamed into place: a reader sees the whole blob or none, and a crash leaves no
half-written image under a real name.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from media.blobs import check_name, is_valid_name

URL_PREFIX = "/media/"


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def path_of(self, name: str) -> Path | None:
        """The file for `name`, or None for a name that is not ours (so a request
        path can be checked here before it becomes a file path)."""
        return self.root / name if is_valid_name(name) else None

    async def put(self, name: str, data: bytes, content_type: str) -> None:
        target = self.root / check_name(name)
        await asyncio.to_thread(self._write, target, data)

    async def put_many(self, blobs: Mapping[str, tuple[bytes, str]]) -> None:
        # One thread job for a photo's sizes, not one each: every job is a wait
        # for a turn of the event loop. Stops at the first failure.
        writes = [(self.root / check_name(name), data) for name, (data, _) in blobs.items()]

        def write_all() -> None:
            for target, data in writes:
                self._write(target, data)

        await asyncio.to_thread(write_all)

    def _write(self, target: Path, data: bytes) -> None:
        descriptor, temporary = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
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
