"""The internal routes: `/_internal/tasks/<handler>` and `/_internal/cron/<job>`.

2xx means done; anything else means "try again later". A handler's exception is
logged with its traceback, recorded in the run log, and answered with 500 and a
one-line reason (the callers are our own queue and scheduler, never clients).
A TransactionConflict that outlasted run_in_transaction's retries is no bug but a
race lost to busy writers (an owner acting while its fan-in runs): it is logged
as a one-line warning, and the queue runs the task again later as for any failure.
The guard has already decided who may call by the time a request gets here.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, Router

from clock import Clock, system_clock
from mail.service import MailService
from push.port import PushSender
from store.errors import TransactionConflict
from store.port import Store
from taskqueue.context import BlobDeleter, JobContext, TaskContext
from taskqueue.enqueue import Tasks
from taskqueue.guard import InternalGuard
from taskqueue.headers import MissingTaskHeaders, task_info
from taskqueue.registry import CronJob, Registry, TaskHandler
from taskqueue.runlog import Run, RunKind, RunLog, error_text

log = logging.getLogger("timeline.tasks.routes")


@dataclass(frozen=True)
class InternalServices:
    store: Store
    tasks: Tasks
    runs: RunLog
    handlers: Registry[TaskHandler]
    jobs: Registry[CronJob]
    blobs: BlobDeleter
    push: PushSender
    clock: Clock = system_clock
    mail: MailService | None = None  # None where e-mail is off (TIMELINE_MAIL=off)


def internal_mount(services: InternalServices, guard: Callable[..., InternalGuard]) -> Mount:
    router = Router(
        routes=[
            Route("/tasks/{handler}", _task_endpoint(services), methods=["POST"]),
            Route("/cron/{job}", _cron_endpoint(services), methods=["GET", "POST"]),
        ]
    )
    return Mount("/_internal", app=guard(router))


def _task_endpoint(services: InternalServices) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        name = request.path_params["handler"]
        handler = services.handlers.get(name)
        if handler is None:
            return JSONResponse({"error": f"no task handler named {name!r}"}, status_code=404)
        try:
            info = task_info(request.headers, name)
            payload = json.loads(await request.body())
        except (MissingTaskHeaders, ValueError) as error:
            return JSONResponse({"error": error_text(error)}, status_code=400)
        if not isinstance(payload, dict):
            return JSONResponse({"error": "the payload must be a JSON object"}, status_code=400)
        context = TaskContext(
            services.store,
            services.tasks,
            info,
            services.push,
            clock=services.clock,
            mail=services.mail,
        )
        run = _Run(
            services.runs, "task", name, info.queue, info.name, info.retry_count + 1, services.clock
        )
        return await run(lambda: handler(payload, context))

    return endpoint


def _cron_endpoint(services: InternalServices) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        name = request.path_params["job"]
        job = services.jobs.get(name)
        if job is None:
            return JSONResponse({"error": f"no cron job named {name!r}"}, status_code=404)
        context = JobContext(
            services.store,
            services.tasks,
            name,
            services.blobs,
            services.push,
            clock=services.clock,
            mail=services.mail,
        )
        attempt = _count(request.headers.get("x-appengine-taskretrycount")) + 1
        run = _Run(services.runs, "cron", name, None, None, attempt, services.clock)
        return await run(lambda: job(context))

    return endpoint


@dataclass(frozen=True)
class _Run:
    runs: RunLog
    kind: RunKind
    name: str
    queue: str | None
    task_name: str | None
    attempt: int
    clock: Clock

    async def __call__(self, work: Callable[[], Awaitable[None]]) -> Response:
        started_at = self.clock()
        started = time.perf_counter()
        error: str | None = None
        try:
            await work()
        except TransactionConflict as exc:
            error = error_text(exc)
            log.warning(
                "%s %s (%s) will be retried: %s", self.kind, self.name, self.task_name or "-", error
            )
        except Exception as exc:
            log.exception("%s %s (%s) failed", self.kind, self.name, self.task_name or "-")
            error = error_text(exc)
        run = Run(
            kind=self.kind,
            name=self.name,
            queue=self.queue,
            task_name=self.task_name,
            attempt=self.attempt,
            status="done" if error is None else "error",
            started_at=started_at,
            duration_ms=(time.perf_counter() - started) * 1000,
            error=error,
        )
        try:
            await self.runs.record(run)
        except Exception:
            # The work's outcome stands either way; a lost log line must not re-run it.
            log.exception("recording the run of %s %s failed", self.kind, self.name)
        if error is not None:
            return JSONResponse({"error": error}, status_code=500)
        return JSONResponse({"status": "done"})


def _count(value: str | None) -> int:
    try:
        return max(0, int(value or "0"))
    except ValueError:
        return 0
