"""Task admin in the admin schema (/admin/graphql): pending tasks, delete, purge,
pause, resume. Admins only (resolvers/task_admin.py checks, and says what each
call guarantees).
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from resolvers import models, task_admin
from schema.info import Info

DEFAULT_LISTED = 50


@strawberry.type(description="A task still to run, or running now.")
class PendingTask:
    name: str = strawberry.field(description="What deleteTask takes.")
    queue: str
    handler: str
    eta: datetime | None = strawberry.field(
        description="When it is (or was) due; null only where the queue's server leaves it out."
    )
    attempts: int = strawberry.field(
        description="Attempts dispatched so far, one running now included."
    )

    @classmethod
    def from_model(cls, task: models.PendingTask) -> PendingTask:
        return cls(
            name=task.name,
            queue=task.queue,
            handler=task.handler,
            eta=task.eta,
            attempts=task.attempts,
        )


@strawberry.type(description="A queue of queue.yaml and whether it dispatches.")
class TaskQueue:
    name: str
    paused: bool

    @classmethod
    def from_model(cls, status: models.QueueStatus) -> TaskQueue:
        return cls(name=status.name, paused=status.paused)


@strawberry.type
class DeleteTaskPayload:
    queue: str
    name: str


@strawberry.type
class PurgeQueuePayload:
    queue: str
    purged: int | None = strawberry.field(description="Null where the queue does not count.")
    running: list[str] = strawberry.field(
        description="Attempts running at the purge: each may finish; none is retried."
    )


async def pending_tasks(info: Info, queue: str, first: int | None) -> list[PendingTask]:
    limit = DEFAULT_LISTED if first is None else first
    found = await task_admin.pending_tasks(info.context, queue, limit)
    return [PendingTask.from_model(task) for task in found]


async def task_queues(info: Info) -> list[TaskQueue]:
    return [TaskQueue.from_model(status) for status in await task_admin.queues(info.context)]


@strawberry.type(description="What an admin may change.")
class AdminMutation:
    @strawberry.mutation(description="Delete a pending task: it never runs again.")
    async def delete_task(self, info: Info, queue: str, name: str) -> DeleteTaskPayload:
        await task_admin.delete_task(info.context, queue, name)
        return DeleteTaskPayload(queue=queue, name=name)

    @strawberry.mutation(description="Delete every pending task of a queue.")
    async def purge_queue(self, info: Info, queue: str) -> PurgeQueuePayload:
        result = await task_admin.purge_queue(info.context, queue)
        return PurgeQueuePayload(queue=queue, purged=result.purged, running=list(result.running))

    @strawberry.mutation(description="Stop dispatching a queue's tasks; they are kept.")
    async def pause_queue(self, info: Info, queue: str) -> TaskQueue:
        return TaskQueue.from_model(await task_admin.pause_queue(info.context, queue))

    @strawberry.mutation(description="Dispatch a paused queue's tasks again.")
    async def resume_queue(self, info: Info, queue: str) -> TaskQueue:
        return TaskQueue.from_model(await task_admin.resume_queue(info.context, queue))
