"""`python -m tasks.rerender work` whose pull queue never returns from one
acknowledgement, for a test that kills it there (SIGKILL): that photo's re-render
has committed, its task is still leased, and so is the rest of the batch.

    python -m tests.utils.rerender_crash_main N work [options]   hang on the Nth ack

Prints "hanging" when it gets there. Settings come from TIMELINE_* as for the command.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

from settings import load_settings
from taskqueue.pull.port import Leased, PullQueue, PullTask
from tasks.rerender import arguments, run


class HangingAcks:
    def __init__(self, inner: PullQueue, hang_on: int) -> None:
        self.inner = inner
        self.hang_on = hang_on
        self.acks = 0

    async def add_many(self, tasks: Sequence[PullTask]) -> int:
        return await self.inner.add_many(tasks)

    async def lease(self, n: int, seconds: float, tag: str | None = None) -> list[Leased]:
        return await self.inner.lease(n, seconds, tag)

    async def ack(self, leased: Sequence[Leased]) -> None:
        self.acks += 1
        if self.acks == self.hang_on:
            print("hanging", flush=True)
            await asyncio.Event().wait()
        await self.inner.ack(leased)

    async def extend(self, leased: Sequence[Leased], seconds: float) -> None:
        await self.inner.extend(leased, seconds)

    async def release(self, leased: Sequence[Leased]) -> None:
        await self.inner.release(leased)

    async def pending(self, tag: str | None = None) -> int | None:
        return await self.inner.pending(tag)

    async def close(self) -> None:
        await self.inner.close()


def main() -> int:
    hang_on = int(sys.argv[1])
    layer = lambda queue: HangingAcks(queue, hang_on)  # noqa: E731
    return asyncio.run(run(arguments(sys.argv[2:]), load_settings(), layer))


if __name__ == "__main__":
    raise SystemExit(main())
