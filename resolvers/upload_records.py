"""StrayBlob records written ahead of the uploads that will use them, so that a
createPhoto's path has one writer commit (its Photo's transaction), not two.

An upload's blob names are drawn at random before its image exists (media/blobs.py
`upload_names`), so the record naming them can be committed before the upload
does either. This process keeps a few such records, committed, in a pool: an
upload takes one (its photo id and names) and writes no record of its own. When
the pool runs low, one store call writes the next batch beside the requests
(each record is a root entity, its own entity group, so a plain put_many needs no
transaction on either store). An upload that finds the pool empty writes its own
record as before, so the pool never makes an upload wait longer than without it.

Only committed records enter the pool, and each leaves it once: every blob is
still named by a committed record before it is written (tests/test_uploads_order.py).
A pooled record knows no owner (`owner_id` None): the uploader is whoever takes
it. Records nobody took (the process stopped) name no file; the cleanup job
deletes them after a day like any other (tasks/cleanup.py). A record is taken
only while far younger than that, so the job never deletes one an upload is using.
Each process (`serve --workers N`) keeps its own pool; their records never meet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from datetime import timedelta

from clock import Clock
from media.blobs import upload_names
from store import models
from store.port import Store

log = logging.getLogger("timeline.photos")

BATCH = 8  # records a refill writes in one store call
LOW = BATCH // 2  # a refill starts when fewer than this many are left
# Older records are left to the cleanup job (tasks/cleanup.py STRAY_BLOB_AGE, a
# day): an upload that takes one finishes long before the job could touch it.
MAX_AGE = timedelta(hours=1)


class UploadRecords:
    """The pool of one process, used from its event loop's thread only."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.ready: deque[models.StrayBlob] = deque()
        self.refill: asyncio.Task[None] | None = None

    def take(self) -> models.StrayBlob | None:
        """A committed record no other upload has, or None (then the upload writes
        its own). Starts a refill beside the caller when the pool runs low."""
        taken = None
        oldest = self.clock() - MAX_AGE
        while self.ready and taken is None:
            record = self.ready.popleft()
            if record.created_at > oldest:
                taken = record
        if len(self.ready) < LOW and self.refill is None:
            self.refill = asyncio.get_running_loop().create_task(self._refill())
        return taken

    async def _refill(self) -> None:
        now = self.clock()
        ids = [models.new_id() for _ in range(BATCH)]
        records = [models.StrayBlob(None, i, tuple(upload_names(i).values()), now) for i in ids]
        try:
            await self.store.put_many([models.stray_blob_to_entity(r) for r in records])
        except Exception:
            # Uploads write their own records meanwhile; the next take tries again.
            # (Had the write applied, its records name no file: the cleanup job's.)
            log.warning("could not write StrayBlob records ahead of uploads", exc_info=True)
        else:
            self.ready.extend(records)
        finally:
            self.refill = None

    async def close(self) -> None:
        """Stops a refill under way; its records, if they commit, name no file."""
        refill = self.refill
        if refill is not None:
            refill.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refill
