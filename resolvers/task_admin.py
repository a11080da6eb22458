"""The admin schema's reads and calls (/admin/graphql): the run log and the
queues' admin, for a signed-in admin only, with the queue's refusals turned
into client errors. The same calls as `python -m tasks.runs` and
`python -m tasks.admin`, through tasks.task_admin.TaskAdmin, whose port says
what each guarantees.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from errors import AppError, BadUserInput
from resolvers.context import RequestContext
from tasks.errors import BadTask, NoSuchTask, QueueAdminUnsupported, UnknownQueue
from tasks.port import PendingTask, PurgeResult
from tasks.runlog import Run, recent_runs
from tasks.task_admin import QueueStatus, TaskAdmin

MAX_RUNS = 500  # the run log's own bound (tasks.runlog.recent_runs)


class RunLogUnavailable(AppError):
    """This deployment cannot list runs (on App Engine they are log lines in Cloud
    Logging). A sibling of errors.py's tree: expected, so typed, never masked."""

    code = "RUN_LOG_UNAVAILABLE"


class TaskNotFound(AppError):
    code = "NOT_FOUND"


class AdminCallUnsupported(AppError):
    """The queue's server lacks the call (the Cloud Tasks emulator has no DeleteTask)."""

    code = "UNSUPPORTED"


async def task_runs(context: RequestContext, limit: int, failed_only: bool) -> list[Run]:
    """The newest `limit` runs, newest first."""
    context.require_admin("Only an admin may read the run log.")
    if not 1 <= limit <= MAX_RUNS:
        raise BadUserInput(f"`first` must be within 1..{MAX_RUNS}.", argument="first")
    runs = context.runs
    if runs is None:
        raise RunLogUnavailable("This server keeps no run log.")
    try:
        return await recent_runs(runs, limit=limit, failed_only=failed_only)
    except NotImplementedError:
        raise RunLogUnavailable(
            "Runs are not listed here: on App Engine each run is a log line in Cloud Logging "
            "(logger timeline.tasks.runs)."
        ) from None


@asynccontextmanager
async def _administering(context: RequestContext) -> AsyncIterator[TaskAdmin]:
    """The queue admin, for an admin; the queue's refusals as client errors."""
    context.require_admin("Only an admin may administer task queues.")
    admin = context.task_admin
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


async def pending_tasks(context: RequestContext, queue: str, limit: int) -> list[PendingTask]:
    async with _administering(context) as admin:
        return list(await admin.pending(queue, limit))


async def queues(context: RequestContext) -> list[QueueStatus]:
    async with _administering(context) as admin:
        return [await admin.status(name) for name in admin.queue_names]


async def delete_task(context: RequestContext, queue: str, name: str) -> None:
    async with _administering(context) as admin:
        await admin.delete(queue, name)


async def purge_queue(context: RequestContext, queue: str) -> PurgeResult:
    async with _administering(context) as admin:
        return await admin.purge(queue)


async def pause_queue(context: RequestContext, queue: str) -> QueueStatus:
    async with _administering(context) as admin:
        return await admin.pause(queue)


async def resume_queue(context: RequestContext, queue: str) -> QueueStatus:
    async with _administering(context) as admin:
        return await admin.resume(queue)
