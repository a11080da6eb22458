"""The admin schema, served apart from the public one at /admin/graphql: the run log
and task admin (schema/task_admin.py, which holds the mutations).

Apps are generated from the public schema (schema.graphql), which therefore
holds nothing they may not call. What only an admin may read lives here, in a
schema of its own that an app's codegen never sees; its resolvers check for an
admin all the same, since anyone may reach the path. The run log is also
readable with `python -m tasks.runs`, and the queues administered with
`python -m tasks.admin`.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from resolvers import task_admin
from resolvers.models import Run
from schema.info import Info
from schema.task_admin import DEFAULT_LISTED, PendingTask, TaskQueue, pending_tasks, task_queues

DEFAULT_RUNS = 50


@strawberry.enum(description="What ran: a task delivery or a cron job.")
class TaskRunKind(Enum):
    TASK = "task"
    CRON = "cron"


@strawberry.enum
class TaskRunStatus(Enum):
    DONE = "done"
    ERROR = "error"


@strawberry.type(description="One delivery of a task or one run of a cron job.")
class TaskRun:
    kind: TaskRunKind
    name: str = strawberry.field(description="The task handler or the cron job.")
    queue: str | None = strawberry.field(description="The task's queue; null for cron.")
    task_name: str | None = strawberry.field(description="The task's name; null for cron.")
    attempt: int = strawberry.field(description="1 for the first attempt, 2 for the first retry.")
    status: TaskRunStatus
    started_at: datetime
    duration_ms: float
    error: str | None = strawberry.field(description="Why it failed: the first 2000 characters.")

    @classmethod
    def from_model(cls, run: Run) -> TaskRun:
        return cls(
            kind=TaskRunKind(run.kind),
            name=run.name,
            queue=run.queue,
            task_name=run.task_name,
            attempt=run.attempt,
            status=TaskRunStatus(run.status),
            started_at=run.started_at,
            duration_ms=run.duration_ms,
            error=run.error,
        )


async def task_runs(info: Info, failed_only: bool | None, first: int | None) -> list[TaskRun]:
    """AdminQuery.taskRuns: newest first; for a signed-in admin only."""
    limit = DEFAULT_RUNS if first is None else first
    found = await task_admin.task_runs(info.context, limit, bool(failed_only))
    return [TaskRun.from_model(run) for run in found]


@strawberry.type(description="What an admin may read.")
class AdminQuery:
    @strawberry.field(description="Recent task and cron runs, newest first. Admins only.")
    async def task_runs(
        self, info: Info, failed_only: bool | None = False, first: int | None = DEFAULT_RUNS
    ) -> list[TaskRun]:
        return await task_runs(info, failed_only, first)

    @strawberry.field(
        description="A queue's pending tasks (running ones included), soonest first. Admins only."
    )
    async def pending_tasks(
        self, info: Info, queue: str, first: int | None = DEFAULT_LISTED
    ) -> list[PendingTask]:
        return await pending_tasks(info, queue, first)

    @strawberry.field(description="The queues of queue.yaml and whether each is paused.")
    async def task_queues(self, info: Info) -> list[TaskQueue]:
        return await task_queues(info)
