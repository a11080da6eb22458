"""`TaskAdmin`: what the admin command line and the admin GraphQL schema call.

    await admin.pending("default", limit=50)
    await admin.delete("default", "fanout-3f2a")     # NoSuchTask if not pending
    await admin.purge("default")
    await admin.pause("default"); await admin.resume("default")

It checks what both queues would refuse, with a message that says what to change:
a queue that queue.yaml does not define (UnknownQueue), a malformed task name or
limit (BadTask); then hands the call to the queue's admin port
(taskqueue/port.TaskQueueAdmin), whose docstring says what each call guarantees.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from taskqueue.enqueue import TASK_NAME
from taskqueue.errors import BadTask, NoSuchTask, UnknownQueue
from taskqueue.port import PendingTask, PurgeResult, TaskQueueAdmin

MAX_LISTED = 1000  # one page of Cloud Tasks' ListTasks


@dataclass(frozen=True)
class QueueStatus:
    name: str
    paused: bool


class TaskAdmin:
    def __init__(self, queue: TaskQueueAdmin, *, queues: Collection[str]) -> None:
        self._queue = queue
        self._queues = tuple(sorted(queues))

    @property
    def queue_names(self) -> tuple[str, ...]:
        return self._queues

    async def pending(self, queue: str, limit: int = 50) -> list[PendingTask]:
        """Tasks still to run, running ones included, soonest due first (embedded;
        Cloud Tasks lists in its own order)."""
        self._require(queue)
        if not 1 <= limit <= MAX_LISTED:
            raise BadTask(f"list between 1 and {MAX_LISTED} tasks, not {limit}")
        return await self._queue.pending(queue, limit)

    async def delete(self, queue: str, name: str) -> None:
        self._require(queue)
        if not TASK_NAME.fullmatch(name):
            raise BadTask(f"task name must match {TASK_NAME.pattern}: {name!r}")
        if not await self._queue.delete(queue, name):
            raise NoSuchTask(f"no pending task {name!r} on queue {queue!r}")

    async def purge(self, queue: str) -> PurgeResult:
        self._require(queue)
        return await self._queue.purge(queue)

    async def pause(self, queue: str) -> QueueStatus:
        self._require(queue)
        await self._queue.pause(queue)
        return QueueStatus(queue, paused=True)

    async def resume(self, queue: str) -> QueueStatus:
        self._require(queue)
        await self._queue.resume(queue)
        return QueueStatus(queue, paused=False)

    async def status(self, queue: str) -> QueueStatus:
        self._require(queue)
        return QueueStatus(queue, await self._queue.is_paused(queue))

    def _require(self, queue: str) -> None:
        if queue not in self._queues:
            raise UnknownQueue(
                f"queue {queue!r} is not defined in queue.yaml (known: {', '.join(self._queues)})"
            )
