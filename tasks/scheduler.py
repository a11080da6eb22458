"""The embedded cron scheduler: cron.yaml's jobs, called through the app's own stack.

Off App Engine, this does what App Engine's cron service does there: at each slot
of a job's schedule it sends `GET /_internal/cron/<job>` with `X-Appengine-Cron:
true`, in process (tasks/asgi_call.py), plus the per-process dispatch secret that
the guard accepts locally, so a job sees the request App Engine would send. A
non-2xx answer is retried as the job's retry_parameters say (tasks/cron_config.py).

Slots are claimed in the task database before the call (tasks/cron_slots.py): a
restart, or a second process on the same file, never runs a slot twice, and a slot
missed while the process was down runs once when it comes back, however many were
missed. App Engine's cron service runs apart from the app, so there no slot is
missed for want of a process; a failed request is retried only per
retry_parameters, and a run is not repeated later. One late run per outage is the
nearest an in-process scheduler can come: every job here sweeps up to its own
clock, so one run does the work of all the missed ones.

The routes record each run in the run log; the scheduler adds the attempts that
never got an answer (deadline passed, process stopped), as the embedded workers do.

    scheduler = CronScheduler(db, load_cron_yaml(), secret=secret, clock=clock)
    await scheduler.start(app) ... await scheduler.stop()    # in the lifespan
    await scheduler.tick(app)                                 # tests: one step
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from starlette.types import ASGIApp

from clock import Clock, system_clock
from store.sqlite_db import SQLiteDatabase
from tasks import cron_slots
from tasks.asgi_call import post
from tasks.cron_config import CronEntry
from tasks.cron_slots import Claim, Due, Outcome
from tasks.headers import APP_ENGINE_CRON, EMBEDDED_SECRET
from tasks.registry import CronJob, Registry
from tasks.runlog import Run, RunLog, error_text

log = logging.getLogger("timeline.tasks.scheduler")
DISPATCH_DEADLINE_SECONDS = 600.0  # App Engine's limit for a cron request
SHUTDOWN_ABANDONED = "the app stopped before the job answered"


@dataclass(frozen=True)
class Attempt:
    """How one call of a job went, and what became of its slot."""

    job: str
    slot: datetime
    attempt: int
    status: int | None  # None: no answer (deadline passed, or the call raised)
    outcome: Outcome
    error: str | None = None


def runnable(entries: Iterable[CronEntry], jobs: Registry[CronJob]) -> list[CronEntry]:
    """The entries whose job is registered. A URL with no job behind it would only
    fill the run log with 404s, so it is left out, loudly, instead."""
    known: list[CronEntry] = []
    for entry in entries:
        if jobs.get(entry.job) is None:
            log.warning(
                "cron.yaml schedules %s, but no job is registered as %r", entry.url, entry.job
            )
        else:
            known.append(entry)
    return known


class CronScheduler:
    def __init__(
        self,
        db: SQLiteDatabase,
        entries: Sequence[CronEntry],
        *,
        secret: str,
        runs: RunLog | None = None,
        clock: Clock = system_clock,
        lease_seconds: float = 30.0,
        deadline_seconds: float = DISPATCH_DEADLINE_SECONDS,
        max_sleep_seconds: float = 60.0,
        shutdown_grace_seconds: float = 5.0,
    ) -> None:
        self._db = db
        self._entries = {entry.job: entry for entry in entries}
        self._secret = secret
        self._runs = runs
        self._clock = clock
        self._lease = timedelta(seconds=lease_seconds)
        self._deadline = deadline_seconds
        # Other processes on the file, and wall-clock jumps, are noticed within this.
        self._max_sleep = max_sleep_seconds
        self.shutdown_grace_seconds = shutdown_grace_seconds
        self._token = secrets.token_hex(8)  # whose leases are whose, across processes
        self._app: ASGIApp | None = None
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._loop: asyncio.Task[None] | None = None
        self._in_flight: dict[asyncio.Task[Attempt], Claim] = {}
        self._table_ready = False
        self._finished_schedules: set[str] = set()  # warned about once

    @property
    def jobs(self) -> list[str]:
        return sorted(self._entries)

    def wake(self) -> None:
        """Look at the jobs again now (e.g. after a test moved the clock)."""
        self._wakeup.set()

    async def start(self, app: ASGIApp) -> None:
        self._app = app
        self._stopping = False
        self._loop = asyncio.create_task(self._serve())

    async def stop(self) -> None:
        # A flag, not cancel(): a claim cancelled half-way would still commit in the
        # database thread and strand its slot until the lease ran out.
        self._stopping = True
        self._wakeup.set()
        loop, self._loop = self._loop, None
        if loop is not None:
            await asyncio.gather(loop, return_exceptions=True)
        if self._in_flight:
            _, unfinished = await asyncio.wait(
                set(self._in_flight), timeout=self.shutdown_grace_seconds
            )
            abandoned = [self._in_flight[call] for call in unfinished]
            for call in unfinished:
                call.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)
            # Failed attempts now, rather than once their leases run out.
            for claim in abandoned:
                await self._record_unanswered(claim, SHUTDOWN_ABANDONED)
                await self._settle(claim, SHUTDOWN_ABANDONED)
            self._in_flight.clear()
        self._app = None

    async def tick(self, app: ASGIApp | None = None) -> list[Attempt]:
        """Claim what is due now, run it and wait for it: one deterministic step."""
        if app is not None:
            self._app = app
        claims, _ = await self._claim_due()
        return list(await asyncio.gather(*(self._call(claim) for claim in claims)))

    async def _serve(self) -> None:
        while not self._stopping:
            self._wakeup.clear()
            try:
                claims, wake_at = await self._claim_due()
            except Exception:
                log.exception("claiming cron slots failed; trying again")
                claims, wake_at = [], None
            for claim in claims:
                call = asyncio.create_task(self._call(claim))
                self._in_flight[call] = claim
                call.add_done_callback(self._finished)
            await _wait(self._wakeup, self._seconds_until(wake_at))

    def _finished(self, call: asyncio.Task[Attempt]) -> None:
        claim = self._in_flight.pop(call, None)
        if claim is not None and not call.cancelled() and call.exception() is not None:
            log.error(
                "cron job %s: its outcome was not recorded; the lease will run out",
                claim.job,
                exc_info=call.exception(),
            )
        self._wakeup.set()  # its next slot is counted from now

    def _seconds_until(self, wake_at: datetime | None) -> float:
        if wake_at is None:
            return self._max_sleep
        return min(max((wake_at - self._clock()).total_seconds(), 0.0), self._max_sleep)

    async def _claim_due(self) -> tuple[list[Claim], datetime | None]:
        now = self._clock()
        entries = list(self._entries.values())

        running = list(self._in_flight.values())

        def claim_all(conn: sqlite3.Connection) -> list[Due]:
            if not self._table_ready:
                cron_slots.ensure_table(conn)
                self._table_ready = True
            # Our own running attempts first, in the same write: one whose renewal
            # came late is still alive, never taken for an interrupted one.
            for claim in running:
                cron_slots.renew(conn, claim, now + self._lease)
            return [
                cron_slots.claim(conn, e.job, e.schedule, e.retry, now, self._lease, self._token)
                for e in entries
            ]

        dues = await self._db.write(claim_all)
        for entry, due in zip(entries, dues, strict=True):
            if due.interrupted is not None:
                # How long it ran before its process stopped is not known.
                await self._record_unanswered(due.interrupted, cron_slots.INTERRUPTED, 0.0)
            if (
                due.claim is None
                and due.wake_at is None
                and entry.job not in self._finished_schedules
            ):
                self._finished_schedules.add(entry.job)
                log.warning("cron job %s: %r has no run left", entry.job, entry.schedule.text)
        claims = [due.claim for due in dues if due.claim is not None]
        waits = [due.wake_at for due in dues if due.claim is None and due.wake_at is not None]
        return claims, min(waits, default=None)

    async def _call(self, claim: Claim) -> Attempt:
        app = self._app
        assert app is not None, "start(app) or tick(app) first"
        headers = {
            APP_ENGINE_CRON: "true",
            EMBEDDED_SECRET: self._secret,
            # The route numbers the run from this, as App Engine's retries carry it.
            "X-AppEngine-TaskRetryCount": str(claim.attempt - 1),
        }
        status: int | None = None
        error: str | None = None
        renewing = asyncio.create_task(self._keep_leased(claim))
        try:
            async with asyncio.timeout(self._deadline):
                answer = await post(app, f"/_internal/cron/{claim.job}", headers, b"", method="GET")
            status = answer.status
            if not 200 <= status < 300:
                error = error_text(f"HTTP {status}: {answer.text}")
        except TimeoutError:
            error = f"dispatch deadline of {self._deadline:g}s exceeded"
            await self._record_unanswered(claim, error)
        except Exception as exc:
            log.exception("calling cron job %s failed", claim.job)
            error = error_text(exc)
            await self._record_unanswered(claim, error)
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
        outcome = await self._settle(claim, error)
        return Attempt(claim.job, claim.slot, claim.attempt, status, outcome, error)

    async def _settle(self, claim: Claim, error: str | None) -> Outcome:
        entry = self._entries[claim.job]
        now = self._clock()
        outcome = await self._db.write(
            lambda conn: cron_slots.settle(conn, claim, entry.retry, now, error)
        )
        if outcome == "failed":
            log.warning("cron job %s gave up on its %s slot: %s", claim.job, claim.slot, error)
        return outcome

    async def _keep_leased(self, claim: Claim) -> None:
        every = self._lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            renewal = partial(
                cron_slots.renew, attempt=claim, lease_until=self._clock() + self._lease
            )
            try:
                await self._db.write(renewal)
            except Exception:
                log.exception("renewing the lease of cron job %s failed", claim.job)

    async def _record_unanswered(
        self, claim: Claim, error: str, duration_ms: float | None = None
    ) -> None:
        if self._runs is None:
            return
        if duration_ms is None:
            duration_ms = max((self._clock() - claim.started_at).total_seconds(), 0.0) * 1000
        run = Run(
            kind="cron",
            name=claim.job,
            queue=None,
            task_name=None,
            attempt=claim.attempt,
            status="error",
            started_at=claim.started_at,
            duration_ms=duration_ms,
            error=error,
        )
        try:
            await self._runs.record(run)
        except Exception:
            log.exception("recording an unanswered run of cron job %s failed", claim.job)


async def _wait(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
