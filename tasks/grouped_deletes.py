"""Deletes asked for while one is in flight go together, in the next `delete_many`.

Every mutation's relay ends by deleting its outbox records (tasks/outbox.py): one
store write of two or three keys, a job of its own on the embedded file's one
writer, which each request's commit queues behind. Relays that finish while
such a delete is under way wait for the next one, which takes all their keys at
once (up to the store's batch limit), so under load one write serves many
relays, and a lone relay still deletes at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from store.keys import Key
from store.port import MAX_BATCH, Store


@dataclass
class _Asked:
    keys: Sequence[Key]
    done: asyncio.Future[None]


class GroupedDeletes:
    def __init__(self, store: Store, *, limit: int = MAX_BATCH) -> None:
        self._store = store
        self._limit = limit
        self._asked: list[_Asked] = []
        self._deleting: asyncio.Task[None] | None = None

    async def delete(self, keys: Sequence[Key]) -> None:
        """Returns once `keys` are deleted; raises what their `delete_many` raised."""
        if len(keys) > self._limit:
            await self._store.delete_many(keys)
            return
        done = asyncio.get_running_loop().create_future()
        self._asked.append(_Asked(keys, done))
        if self._deleting is None or self._deleting.done():
            self._deleting = asyncio.create_task(self._delete_all())
        await done

    async def _delete_all(self) -> None:
        while self._asked:
            batch, size = [], 0
            while self._asked and size + len(self._asked[0].keys) <= self._limit:
                batch.append(self._asked.pop(0))
                size += len(batch[-1].keys)
            try:
                await self._store.delete_many([key for asked in batch for key in asked.keys])
            except Exception as error:
                for asked in batch:
                    if not asked.done.done():
                        asked.done.set_exception(error)
                continue
            for asked in batch:
                if not asked.done.done():
                    asked.done.set_result(None)
