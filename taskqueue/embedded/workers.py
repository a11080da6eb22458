"""Embedded workers: deliver due tasks through the app's own ASGI stack.

One loop per queue claims due tasks (within the queue's token bucket and its
max_concurrent_requests) and posts each to `/_internal/tasks/<handler>` of the very
app that runs them, in process (an ASGI call, see taskqueue/asgi_call.py), with App Engine's
task headers and the per-process dispatcher secret, so that a handler sees exactly
what Cloud Tasks would send and passes the same guard.

Leases: a claimed task is leased for `lease_seconds` and the lease is renewed while
the handler runs. If the process dies the lease simply runs out, and any process
using the file puts the task back; so a task killed mid-run runs again within about
one lease after a restart. A short lease therefore means a fast recovery; its cost
is one small UPDATE per lease/3 for all in-flight tasks. Renewing this process's
leases and putting back expired ones are one write on the file's single writer
(store/sqlite_db.py), so a task whose handler still runs here is never taken for
dead here, and a renewal never waits for a SQLite lock held across an await.

Shutdown: stop claiming, give in-flight deliveries `shutdown_grace_seconds` to
finish, then cancel the rest and hand their leases back so they run again at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from starlette.types import ASGIApp

from clock import system_seconds
from store.sqlite_batches import shared_batches
from store.sqlite_db import SQLiteDatabase, writes_in_background
from taskqueue.asgi_call import post
from taskqueue.config import QueueConfig
from taskqueue.embedded import queue as rows
from taskqueue.embedded.backlog import COUNT_EVERY_SECONDS, Backlog
from taskqueue.embedded.queue import DEDUP_WINDOW, LeasedTask
from taskqueue.headers import EMBEDDED_SECRET, app_engine_task_headers
from taskqueue.rate import TokenBucket
from taskqueue.runlog import Run, RunLog, error_text

log = logging.getLogger("timeline.tasks.workers")
CLAIM_BATCH = 100
DISPATCH_DEADLINE_SECONDS = 600.0  # App Engine's limit for a task request
PURGE_EVERY_SECONDS = 3600.0


class EmbeddedWorkers:
    def __init__(
        self,
        db: SQLiteDatabase,
        queues: Mapping[str, QueueConfig],
        *,
        secret: str,
        runs: RunLog | None = None,
        lease_seconds: float = 30.0,
        deadline_seconds: float = DISPATCH_DEADLINE_SECONDS,
        poll_seconds: float = 1.0,
        shutdown_grace_seconds: float = 5.0,
        clock: Callable[[], float] = system_seconds,
        rate_clock: Callable[[], float] = time.monotonic,
        dedup_window: timedelta = DEDUP_WINDOW,
    ) -> None:
        self._db = db
        self._batches = shared_batches(db)  # finished deliveries share writer jobs
        self._queues = dict(queues)
        self._secret = secret
        self._runs = runs
        self._lease = lease_seconds
        self._deadline = deadline_seconds
        self._poll = poll_seconds
        self.shutdown_grace_seconds = shutdown_grace_seconds
        # Wall time (tasks' etas, leases) and the time queue rates are measured in;
        # public so that tests can set manual ones before the workers start.
        self.clock = clock
        self.rate_clock = rate_clock
        self._wakeups = {name: asyncio.Event() for name in self._queues}
        self._in_flight: dict[str, dict[str, LeasedTask]] = {name: {} for name in self._queues}
        self._deliveries: set[asyncio.Task[None]] = set()
        self._loops: list[asyncio.Task[None]] = []
        self._stopping = False
        self._stopped = asyncio.Event()
        self._dedup_seconds = dedup_window.total_seconds()
        self.backlog = Backlog()  # requests slow down while it is over its limit
        self._counted_at: dict[str, float] = {}
        self._app: ASGIApp | None = None

    def wake(self, queue: str) -> None:
        event = self._wakeups.get(queue)
        if event is not None:
            event.set()

    async def start(self, app: ASGIApp) -> None:
        self._app = app
        self._stopping = False
        self._stopped.clear()
        self._loops = [asyncio.create_task(self._serve(config)) for config in self._queues.values()]
        self._loops.append(asyncio.create_task(self._housekeeping()))

    async def stop(self) -> None:
        self._stopping = True
        self._stopped.set()
        for event in self._wakeups.values():
            event.set()
        await asyncio.gather(*self._loops, return_exceptions=True)
        if self._deliveries:
            _, unfinished = await asyncio.wait(
                set(self._deliveries), timeout=self.shutdown_grace_seconds
            )
            for delivery in unfinished:
                delivery.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)
        leftover = [task for tasks in self._in_flight.values() for task in tasks.values()]
        if leftover:
            log.info("handing back %d unfinished task(s) at shutdown", len(leftover))
            await self._db.write(lambda conn: rows.release(conn, leftover))
        for tasks in self._in_flight.values():
            tasks.clear()
        self._app = None

    async def _serve(self, config: QueueConfig) -> None:
        writes_in_background()  # the deliveries it starts inherit it
        bucket = TokenBucket(config.rate_per_second, config.bucket_size, self.rate_clock)
        wakeup = self._wakeups[config.name]
        in_flight = self._in_flight[config.name]
        while not self._stopping:
            wakeup.clear()
            free = config.max_concurrent_requests - len(in_flight)
            if free <= 0:
                await _wait(wakeup, self._poll)  # a finishing delivery sets it
                continue
            taken = bucket.try_take(min(free, CLAIM_BATCH))
            if taken == 0:
                await _wait(wakeup, min(bucket.seconds_until_token(), self._poll))
                continue
            try:
                claimed = await self._claim(config.name, taken)
            except Exception:
                log.exception("claiming tasks from queue %r failed; retrying", config.name)
                claimed = []
                await _wait(wakeup, self._poll)
            bucket.give_back(taken - len(claimed))
            await self._count_backlog(config.name, full=len(claimed) == taken)
            for task in claimed:
                in_flight[task.name] = task
                delivery = asyncio.create_task(self._deliver(task, config))
                self._deliveries.add(delivery)
                delivery.add_done_callback(self._deliveries.discard)
            if len(claimed) < taken:
                await _wait(wakeup, await self._idle_wait(config.name))

    async def _claim(self, queue: str, limit: int) -> list[LeasedTask]:
        now = self.clock()
        return await self._db.write(
            lambda conn: rows.claim(conn, queue, limit, now, now + self._lease)
        )

    async def _count_backlog(self, queue: str, *, full: bool) -> None:
        """After a claim: none left when it took less than it could; otherwise count
        what still waits (not more often than COUNT_EVERY_SECONDS)."""
        if not full:
            self.backlog.counted(queue, 0)
            return
        now = self.rate_clock()
        if now - self._counted_at.get(queue, -COUNT_EVERY_SECONDS) < COUNT_EVERY_SECONDS:
            return
        self._counted_at[queue] = now
        due_by = self.clock()
        most = 2 * self.backlog.limit + 1
        try:
            waiting = await self._db.read(lambda conn: rows.count_due(conn, queue, due_by, most))
        except Exception:
            log.exception("counting the backlog of queue %r failed", queue)
            return
        self.backlog.counted(queue, waiting)

    async def _idle_wait(self, queue: str) -> float:
        """Sleep until the next eta, but poll for other processes' tasks and leases."""
        eta = await self._db.read(lambda conn: rows.next_eta(conn, queue))
        if eta is None:
            return self._poll
        return min(max(eta - self.clock(), 0.0), self._poll)

    async def _deliver(self, task: LeasedTask, config: QueueConfig) -> None:
        assert self._app is not None
        headers = app_engine_task_headers(
            task.queue, task.name, task.retry_count, task.execution_count, task.eta
        )
        headers[EMBEDDED_SECRET] = self._secret
        headers["Content-Type"] = "application/json"
        started = self.clock()
        status: int | None = None
        error = ""
        try:
            async with asyncio.timeout(self._deadline):
                answer = await post(
                    self._app, f"/_internal/tasks/{task.handler}", headers, task.payload
                )
            status = answer.status
            if not 200 <= status < 300:
                error = error_text(f"HTTP {status}: {answer.text}")
        except TimeoutError:
            error = f"dispatch deadline of {self._deadline:g}s exceeded"
            await self._record_unanswered(task, started, error)
        except Exception as exc:
            log.exception("delivering task %s failed", task.name)
            error = error_text(exc)
            await self._record_unanswered(task, started, error)
        try:
            await self._settle(task, config, status, error)
        except Exception:
            log.exception(
                "recording the outcome of task %s failed; its lease will expire", task.name
            )
        self._in_flight[config.name].pop(task.name, None)
        self._wakeups[config.name].set()

    async def _settle(
        self, task: LeasedTask, config: QueueConfig, status: int | None, error: str
    ) -> None:
        now = self.clock()
        if status is not None and 200 <= status < 300:
            await self._batches.write(lambda conn: rows.finish(conn, [task], now))
            return
        age = timedelta(seconds=now - task.first_attempt_at)
        if config.retry.gives_up(task.retry_count, age):
            log.warning("task %s failed for good after %d retries", task.name, task.retry_count)
            await self._batches.write(lambda conn: rows.give_up(conn, task, now, status, error))
            return
        eta = now + config.retry.backoff(task.retry_count + 1)
        # App Engine does not count a 503 ("no instance free") as an execution.
        executed = status != 503
        await self._batches.write(
            lambda conn: rows.retry_later(conn, task, eta, status, error, executed)
        )

    async def _record_unanswered(self, task: LeasedTask, started: float, error: str) -> None:
        if self._runs is None:
            return
        run = Run(
            kind="task",
            name=task.handler,
            queue=task.queue,
            task_name=task.name,
            attempt=task.retry_count + 1,
            status="error",
            started_at=datetime.fromtimestamp(started, UTC),
            duration_ms=(self.clock() - started) * 1000,
            error=error,
        )
        with contextlib.suppress(Exception):
            await self._runs.record(run)

    async def _housekeeping(self) -> None:
        """Renew in-flight leases, put back expired ones, forget old tombstones."""
        writes_in_background()
        every = self._lease / 3
        next_purge = 0.0
        while not self._stopping:
            try:
                await self._renew_and_reclaim()
                if self.clock() >= next_purge:
                    await self._purge_tombstones()
                    next_purge = self.clock() + PURGE_EVERY_SECONDS
            except Exception:
                log.exception("task housekeeping failed; trying again")
            await _wait(self._stopped, every)

    async def _purge_tombstones(self) -> None:
        cutoff = self.clock() - self._dedup_seconds
        await self._db.write(lambda conn: rows.purge_finished(conn, cutoff))

    async def _renew_and_reclaim(self) -> None:
        now = self.clock()
        leased = [task for tasks in self._in_flight.values() for task in tasks.values()]
        expired = await self._db.write(
            lambda conn: rows.renew_and_reclaim(conn, leased, now, now + self._lease)
        )
        for queue in expired:
            log.warning("tasks on queue %r outlived their lease; running them again", queue)
            self.wake(queue)


async def _wait(event: asyncio.Event, seconds: float) -> None:
    """Until `event` is set or `seconds` pass, whichever is first."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(min(max(seconds, 0.0), 3600.0)):
            await event.wait()
