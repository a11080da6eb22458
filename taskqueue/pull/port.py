"""Pull queues: work that a separate worker process leases, instead of receiving pushes.

App Engine's pull queues, as a port. A producer adds tasks (a tag, a payload, an
optional name); a worker leases up to `n` of them for `seconds`, during which no
other lease hands them out, and acknowledges each one it finished, which deletes
it. A lease that runs out hands its tasks back, so a worker killed in the middle
of a batch loses nothing: another worker (or the same one, restarted) leases them
again. Delivery is therefore at least once, and the work must be idempotent.

    lease(n, seconds, tag=None)  up to n tasks, oldest first; with a tag, only its tasks
    ack(leased)                  done: deleted (a lease that already ran out acks nothing)
    extend(leased, seconds)      more time for tasks still held
    release(leased)              hand them back now, for another lease

Adapters: `taskqueue.pull.embedded.EmbeddedPullQueue` (a table in the embedded SQLite
file, safe across processes) and `taskqueue.pull.pubsub.PubSubPullQueue` (a Pub/Sub
topic and pull subscription).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

MAX_LEASE_SECONDS = 600  # Pub/Sub's longest ack deadline; the embedded queue holds to it too
MAX_LEASE_TASKS = 1000  # Pub/Sub returns at most 1,000 messages a pull


@dataclass(frozen=True)
class PullTask:
    """A task to add: `name`, when given, keeps a task from being queued twice
    while the first is still queued or leased (embedded queue; see PubSubPullQueue)."""

    tag: str
    payload: bytes
    name: str | None = None


@dataclass(frozen=True)
class Leased:
    name: str
    tag: str
    payload: bytes
    # 1 on the first lease; 0 where the queue does not count (Pub/Sub, no dead-letter policy)
    attempt: int
    lease_id: str  # what ack, extend and release present: the holder's proof


class PullQueue(Protocol):
    async def add_many(self, tasks: Sequence[PullTask]) -> int:
        """Adds the tasks; returns how many were new."""
        ...

    async def lease(self, n: int, seconds: float, tag: str | None = None) -> list[Leased]: ...

    async def ack(self, leased: Sequence[Leased]) -> None: ...

    async def extend(self, leased: Sequence[Leased], seconds: float) -> None: ...

    async def release(self, leased: Sequence[Leased]) -> None: ...

    async def pending(self, tag: str | None = None) -> int | None:
        """Tasks not yet acknowledged (leased or not), or None where the queue cannot tell."""
        ...

    async def close(self) -> None: ...


def check_lease(n: int, seconds: float) -> None:
    if not 1 <= n <= MAX_LEASE_TASKS:
        raise ValueError(f"lease 1 to {MAX_LEASE_TASKS} tasks at a time, not {n}")
    if not 0 < seconds <= MAX_LEASE_SECONDS:
        raise ValueError(
            f"a lease lasts more than 0 and at most {MAX_LEASE_SECONDS} s, not {seconds}"
        )
