"""Running a unit of work in a transaction, retried when it loses a race.

Transactions are optimistic: when another writer changed what one read (the
entity, on SQLite and Firestore in Datastore mode; anything in its entity group, on
legacy Datastore and the emulator), its commit fails and the whole function must
run again on fresh reads. The function must therefore have no effects outside the
transaction.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from store.errors import TransactionConflict
from store.port import Store, Transaction

T = TypeVar("T")

ATTEMPTS = 8


async def run_in_transaction(
    store: Store, work: Callable[[Transaction], Awaitable[T]], *, attempts: int = ATTEMPTS
) -> T:
    for attempt in range(attempts):
        try:
            async with store.transaction() as tx:
                return await work(tx)
        except TransactionConflict:
            if attempt == attempts - 1:
                raise
            # Jittered, growing pause so that racing writers do not collide again.
            await asyncio.sleep(random.uniform(0, min(0.05 * 2**attempt, 2.0)))
    raise AssertionError("unreachable")
