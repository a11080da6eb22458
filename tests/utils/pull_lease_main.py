"""A worker process of the pull-queue tests: leases batches from the embedded pull
queue in a file, acknowledges them, prints each name it acknowledged, and stops
when a lease comes back empty. It starts leasing when a line arrives on stdin, so
that a test can start several at one moment; each batch takes a moment of "work".

    python -m tests.utils.pull_lease_main DB_PATH BATCH
"""

from __future__ import annotations

import asyncio
import sys

from store.sqlite_db import SQLiteDatabase
from taskqueue.pull.embedded import EmbeddedPullQueue

LEASE_SECONDS = 60.0
WORK_SECONDS = 0.01


async def main(path: str, batch: int) -> None:
    database = SQLiteDatabase(path)
    queue = EmbeddedPullQueue(database)
    print("ready", flush=True)
    sys.stdin.readline()
    while leased := await queue.lease(batch, LEASE_SECONDS):
        await asyncio.sleep(WORK_SECONDS)
        await queue.ack(leased)
        print("\n".join(task.name for task in leased), flush=True)
    database.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
