"""How far the embedded queue is behind, and requests that wait while it is too far.

Requests can ask for follow-up work faster than one process does it: under a
mixed load a reply asks for about half a task, so a server that answers faster
than its workers run (a quiet machine, a burst) builds a backlog that grows for
as long as the load lasts, and notifications go out minutes late. The workers
therefore count, after a claim that found more due than they could take, the due
tasks still waiting (at most every COUNT_EVERY_SECONDS, a bounded index range);
while that count is over `limit`, a request's relay runs before its answer and
the answer waits until the workers are back under it (at most MAX_WAIT_SECONDS,
so a stuck queue slows requests but never stops them). Requests so slow down to
the pace of their follow-ups, and the backlog stays bounded.

Only where the queue is the embedded one and its workers run in this process
(the leader); on Cloud Tasks the queue scales out and no such signal exists.
"""

from __future__ import annotations

import asyncio
import contextlib

BACKLOG_LIMIT = 1000  # due tasks waiting, all queues: seconds of work, not minutes
COUNT_EVERY_SECONDS = 0.5
MAX_WAIT_SECONDS = 10.0


class Backlog:
    def __init__(self, limit: int = BACKLOG_LIMIT) -> None:
        self.limit = limit
        self.max_wait_seconds = MAX_WAIT_SECONDS
        self._waiting: dict[str, int] = {}
        self._under = asyncio.Event()
        self._under.set()

    @property
    def waiting(self) -> int:
        """Due tasks not yet claimed, as last counted, all queues together."""
        return sum(self._waiting.values())

    @property
    def over(self) -> bool:
        return self.waiting > self.limit

    def counted(self, queue: str, waiting: int) -> None:
        self._waiting[queue] = waiting
        if self.over:
            self._under.clear()
        else:
            self._under.set()

    async def under_limit(self) -> None:
        """Until the workers are back under the limit, or the longest wait passed."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.max_wait_seconds):
                await self._under.wait()
