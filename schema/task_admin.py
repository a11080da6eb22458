"""Task admin in the admin schema (/admin/graphql): pending tasks, delete, purge,
pause, resume. Admins only; the same calls as `python -m tasks.admin`, through
tasks.task_admin.TaskAdmin, whose port says what each guarantees.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import strawberry

from errors import AppError, BadUserInput
from schema.info import Info
from tasks import port
from tasks.errors import BadTask, NoSuchTask, QueueAdminUnsupported, UnknownQueue
from tasks.task_admin import QueueStatus, TaskAdmin

DEFAULT_LISTED = 50


class TaskNotFound(AppError):
    code = "NOT_FOUND"


class AdminCallUnsupported(AppError):
    """The queue's server lacks the call (the Cloud Tasks emulator has no DeleteTask)."""

    code = "UNSUPPORTED"


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
    def from_model(cls, task: port.PendingTask) -> PendingTask:
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
    def from_model(cls, status: QueueStatus) -> TaskQueue:
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


@asynccontextmanager
async def administering(info: Info) -> AsyncIterator[TaskAdmin]:
    """The queue admin, for an admin; the queue's refusals as client errors."""
    info.context.require_admin("Only an admin may administer task queues.")
    admin = info.context.task_admin
    if admin is None:
        raise RuntimeError("the admin schema is served without a task admin")
    try:
        yield admin
    except UnknownQueue as error:
        raise BadUserInput(str(error), argument="queue") from error
    except BadTask as error:
        raise BadUserInput(str(error)) from error
    except NoSuchTask as error:
        raise TaskNotFound(str(error)) from error
    except QueueAdminUnsupported as error:
        raise AdminCallUnsupported(str(error)) from error


async def pending_tasks(info: Info, queue: str, first: int | None) -> list[PendingTask]:
    async with administering(info) as admin:
        found = await admin.pending(queue, DEFAULT_LISTED if first is None else first)
    return [PendingTask.from_model(task) for task in found]


async def task_queues(info: Info) -> list[TaskQueue]:
    async with administering(info) as admin:
        return [TaskQueue.from_model(await admin.status(name)) for name in admin.queue_names]


@strawberry.type(description="What an admin may change.")
class AdminMutation:
    @strawberry.mutation(description="Delete a pending task: it never runs again.")
    async def delete_task(self, info: Info, queue: str, name: str) -> DeleteTaskPayload:
        async with administering(info) as admin:
            await admin.delete(queue, name)
        return DeleteTaskPayload(queue=queue, name=name)

    @strawberry.mutation(description="Delete every pending task of a queue.")
    async def purge_queue(self, info: Info, queue: str) -> PurgeQueuePayload:
        async with administering(info) as admin:
            result = await admin.purge(queue)
        return PurgeQueuePayload(queue=queue, purged=result.purged, running=list(result.running))

    @strawberry.mutation(description="Stop dispatching a queue's tasks; they are kept.")
    async def pause_queue(self, info: Info, queue: str) -> TaskQueue:
        async with administering(info) as admin:
            return TaskQueue.from_model(await admin.pause(queue))

    @strawberry.mutation(description="Dispatch a paused queue's tasks again.")
    async def resume_queue(self, info: Info, queue: str) -> TaskQueue:
        async with administering(info) as admin:
            return TaskQueue.from_model(await admin.resume(queue))
