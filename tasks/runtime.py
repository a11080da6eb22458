"""Background work wired from settings, in one place: which queue, the internal
routes and their guard, the run log, and the embedded workers' and cron
scheduler's lifetime.

    runtime = TaskRuntime.from_settings(settings, store, blobs=blobs, push=push)
    routes.append(runtime.mount)                 # /_internal/..., guarded
    async with runtime.running(app): ...         # in the app's lifespan
    runtime.tasks                                # what resolvers enqueue through
    runtime.admin                                # list, delete, purge, pause, resume

Handler and job modules register themselves on import; a new one is imported here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Protocol

from starlette.routing import Mount
from starlette.types import ASGIApp

from auth.oidc import OidcVerifier
from clock import Clock, epoch_seconds, system_clock
from cron.config import load_cron_yaml
from cron.scheduler import CronScheduler, runnable
from mail.service import MailService
from push.port import PushSender
from settings import Settings, SettingsError
from store.port import Store
from store.sqlite_db import SQLiteDatabase
from taskqueue.cloud_tasks import AppEngineTarget, CloudTasksQueue, HttpTarget, cloud_tasks_client
from taskqueue.config import load_queue_yaml
from taskqueue.context import BlobDeleter
from taskqueue.embedded.database import task_database
from taskqueue.embedded.queue import EmbeddedQueue
from taskqueue.embedded.workers import EmbeddedWorkers
from taskqueue.enqueue import Tasks
from taskqueue.guard import InternalGuard
from taskqueue.port import TaskQueue
from taskqueue.registry import cron_jobs, handlers
from taskqueue.routes import InternalServices, internal_mount
from taskqueue.runlog import LoggedRunLog, RunLog, SQLiteRunLog
from taskqueue.task_admin import TaskAdmin
from tasks import (  # noqa: F401  (importing registers their handlers and jobs)
    cleanup,
    counters,
    emails,
    fan_in,
    feed,
    notifications,
    outbox,
    push_notifications,
)
from tasks.outbox import sweep

log = logging.getLogger("timeline.tasks.runtime")
# A layer around the queue port (a metrics or fault-injecting wrapper, say).
QueueLayer = Callable[[TaskQueue], TaskQueue]
# How often a process that does not lead asks whether the leader is gone.
LEADER_POLL_SECONDS = 1.0


class Leadership(Protocol):
    """Whether this process runs the background work (store/sqlite_lock.FileClaim)."""

    @property
    def leads(self) -> bool: ...

    def try_lead(self) -> bool: ...


class _Background(Protocol):
    async def stop(self) -> None: ...


@dataclass
class TaskRuntime:
    tasks: Tasks
    runs: RunLog
    mount: Mount
    dispatch_secret: str  # for the embedded scheduler, which calls the same routes
    store: Store
    admin: TaskAdmin  # over the queue adapter itself, never through a queue layer
    workers: EmbeddedWorkers | None = None
    db: SQLiteDatabase | None = None
    scheduler: CronScheduler | None = None
    clock: Clock = system_clock
    _started: list[_Background] = field(default_factory=list)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        store: Store,
        *,
        blobs: BlobDeleter,
        push: PushSender,
        mail: MailService | None = None,
        queue_layer: QueueLayer | None = None,
        database: SQLiteDatabase | None = None,
        clock: Clock = system_clock,
    ) -> TaskRuntime:
        """`database` is the embedded file's access layer, shared with the store and
        the push outbox (default: the process's one for settings.sqlite_path)."""
        config = settings.tasks
        queues = load_queue_yaml(config.queue_yaml)
        secret = secrets.token_urlsafe(32)
        db: SQLiteDatabase | None = None
        workers: EmbeddedWorkers | None = None
        runs: RunLog
        queue: EmbeddedQueue | CloudTasksQueue
        if settings.is_production:
            runs = LoggedRunLog()
        else:
            db = task_database(database or settings.sqlite_path)
            runs = SQLiteRunLog(db)
        if config.backend == "embedded":
            db = db or task_database(database or settings.sqlite_path)
            workers = EmbeddedWorkers(
                db,
                queues,
                secret=secret,
                runs=runs,
                lease_seconds=config.lease_seconds,
                clock=epoch_seconds(clock),
            )
            queue = EmbeddedQueue(db, wake=workers.wake, clock=epoch_seconds(clock))
        else:
            queue = _cloud_tasks_queue(settings)
        admin = TaskAdmin(queue, queues=queues.keys())
        port: TaskQueue = queue if queue_layer is None else queue_layer(queue)
        facade = Tasks(port, queues=queues.keys(), handlers=handlers, clock=clock)
        services = InternalServices(
            store, facade, runs, handlers, cron_jobs, blobs, push, clock=clock, mail=mail
        )
        oidc = _oidc_verifier(settings, clock)

        def guard(app: ASGIApp) -> InternalGuard:
            return InternalGuard(app, secret=secret, on_app_engine=settings.app_engine, oidc=oidc)

        mount = internal_mount(services, guard)
        scheduler: CronScheduler | None = None
        # Never on App Engine, whose cron service calls the same routes from cron.yaml.
        if config.cron_scheduler and not settings.is_production:
            db = db or task_database(database or settings.sqlite_path)
            entries = runnable(load_cron_yaml(config.cron_yaml), cron_jobs)
            scheduler = CronScheduler(
                db,
                entries,
                secret=secret,
                runs=runs,
                lease_seconds=config.lease_seconds,
                clock=clock,
            )
        return cls(facade, runs, mount, secret, store, admin, workers, db, scheduler, clock)

    @contextlib.asynccontextmanager
    async def running(
        self, app: ASGIApp, leadership: Leadership | None = None
    ) -> AsyncIterator[None]:
        """The workers and the scheduler, while the block runs. With `leadership`
        (several processes on one embedded file, store/sqlite_lock.py) only in the
        process that leads; another one waits to lead, and starts them when it does."""
        waiting: asyncio.Task[None] | None = None
        if leadership is None or leadership.leads:
            await self._start_background(app)
        elif self.workers is not None or self.scheduler is not None:
            waiting = asyncio.create_task(self._lead_when_free(app, leadership))
        try:
            yield
        finally:
            if waiting is not None:
                waiting.cancel()
                await asyncio.gather(waiting, return_exceptions=True)
            # Together, so that shutdown waits for one grace period, not one each: a
            # process has about 10 s after SIGTERM. Whatever a cron job enqueues as it
            # stops stays queued in the file and runs after the restart.
            stopping = [part.stop() for part in self._started]
            await asyncio.gather(*stopping)
            self._started.clear()
            if self.db is not None:
                self.db.close()  # finishes the writes already submitted

    async def _start_background(self, app: ASGIApp) -> None:
        if self.workers is not None:
            await self.workers.start(app)
            self._started.append(self.workers)
            await self._sweep_outbox()
        if self.scheduler is not None:
            await self.scheduler.start(app)
            self._started.append(self.scheduler)

    async def _lead_when_free(self, app: ASGIApp, leadership: Leadership) -> None:
        """A follower's watch: the leader's lock is free once its process is gone
        (the kernel drops it, even on SIGKILL); then this process takes over."""
        # Polling: flock has no notification, and a blocking one could not be cancelled.
        while not leadership.try_lead():  # noqa: ASYNC110
            await asyncio.sleep(LEADER_POLL_SECONDS)
        log.warning("the leading process is gone: process %d runs background work", os.getpid())
        try:
            await self._start_background(app)
        except Exception:  # nobody awaits this task until shutdown: say it now
            log.critical(
                "process %d could not start the background work", os.getpid(), exc_info=True
            )
            raise

    async def _sweep_outbox(self) -> None:
        """Relay what a crash left in the outbox now, rather than at the next cron
        slot. Everything counts: a record written before this process started has
        no relay of its own in flight (and a repeated relay collapses anyway)."""
        try:
            await sweep(self.store, self.tasks, self.clock())
        except Exception:
            log.warning("the start-up outbox sweep failed; relay_outbox will retry", exc_info=True)


def _cloud_tasks_queue(settings: Settings) -> CloudTasksQueue:
    config = settings.tasks
    if not config.cloud_location:
        raise SettingsError(
            "TIMELINE_CLOUD_TASKS_LOCATION must name the queues' region (e.g. us-central1)"
        )
    target: AppEngineTarget | HttpTarget
    if settings.app_engine:
        target = AppEngineTarget()
    else:
        if not config.target_url or not config.service_account:
            raise SettingsError(
                "off App Engine, Cloud Tasks delivers over HTTP: set TIMELINE_TASKS_TARGET_URL "
                "and TIMELINE_TASKS_SERVICE_ACCOUNT"
            )
        target = HttpTarget(
            config.target_url, config.service_account, config.audience or config.target_url
        )
    return CloudTasksQueue(
        cloud_tasks_client(config.emulator_host),
        project=config.cloud_project,
        location=config.cloud_location,
        target=target,
    )


def _oidc_verifier(settings: Settings, clock: Clock) -> OidcVerifier | None:
    config = settings.tasks
    if config.service_account is None:
        return None
    audience = config.audience or config.target_url
    if not audience:
        raise SettingsError(
            "TIMELINE_TASKS_SERVICE_ACCOUNT needs TIMELINE_TASKS_AUDIENCE or _TARGET_URL"
        )
    return OidcVerifier(
        audience=audience,
        service_account=config.service_account,
        certs_url=config.oidc_certs_url,
        clock=clock,
    )
