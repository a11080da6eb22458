"""Each cron job's slots, kept in the task database so that restarts never repeat one.

One row per job in `cron_slots`, beside the embedded queue's tables. A job is
`idle` (its next slot is `schedule.next_after(anchor)`), `running` (an attempt at
`slot` is leased to one scheduler until `lease_until`) or `retrying` (the next
attempt at `slot` is due at `next_attempt_at`). Every change is one write
transaction on the file's single writer, so two schedulers on one file, or one that restarts,
never claim the same slot twice: a slot is claimed only while the row is idle and
the slot lies after the anchor, and claiming it moves the row on.

The anchor is when the job's previous slot finished (or when the job was first
seen). So after any outage exactly one run catches up: the first slot missed;
once it finishes, the next slot is counted from then and the rest are skipped.
The same rule makes a run that outlasts its interval skip the slots it overlapped,
and makes `every N minutes` count from the end of the previous run, as App Engine
documents for interval schedules without a `from`/`to` window.

An attempt whose lease runs out (its process died, or stopped without answering)
counts as a failed attempt, so it is retried only as retry_parameters allow.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from cron.schedule import Schedule, ScheduleError
from taskqueue.backoff import RetryPolicy
from taskqueue.runlog import error_text

Outcome = Literal["done", "retrying", "failed", "lost"]
INTERRUPTED = "the attempt ended without an answer: its process stopped (lease ran out)"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS cron_slots (
    job TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('idle', 'running', 'retrying')),
    anchor INTEGER NOT NULL,
    slot INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    first_attempt_at INTEGER,
    attempt_started_at INTEGER,
    next_attempt_at INTEGER,
    lease_token TEXT,
    lease_until INTEGER,
    outcome TEXT,
    last_error TEXT
)
"""
# Times are whole microseconds since the epoch, UTC: exact, unlike a float of seconds.
_COLUMNS = (
    "state, lease_token, attempts, anchor, slot, first_attempt_at, attempt_started_at, "
    "next_attempt_at, lease_until"
)


@dataclass(frozen=True)
class Claim:
    """One attempt at one slot, leased to the scheduler holding `token`."""

    job: str
    slot: datetime
    attempt: int  # 1 for the slot's first attempt
    started_at: datetime
    token: str


@dataclass(frozen=True)
class Due:
    """What a job needs now: an attempt to make, or a time to look again."""

    claim: Claim | None = None
    wake_at: datetime | None = None  # None with no claim: the schedule never runs again
    interrupted: Claim | None = None  # an attempt whose lease ran out, now counted as failed


@dataclass(frozen=True)
class SlotRow:
    state: str
    lease_token: str | None
    attempts: int
    anchor: datetime
    slot: datetime | None
    first_attempt_at: datetime | None
    attempt_started_at: datetime | None
    next_attempt_at: datetime | None
    lease_until: datetime | None


def micros(when: datetime) -> int:
    return (when - _EPOCH) // _MICROSECOND


def instant(value: int) -> datetime:
    return _EPOCH + value * _MICROSECOND


def ensure_table(conn: sqlite3.Connection) -> None:
    conn.execute(_SCHEMA)


def read(conn: sqlite3.Connection, job: str) -> SlotRow | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM cron_slots WHERE job = ?", (job,)).fetchone()
    if row is None:
        return None
    state, token, attempts, anchor, *times = row
    slot, first, started, next_attempt, lease_until = (
        None if value is None else instant(value) for value in times
    )
    return SlotRow(
        state, token, attempts, instant(anchor), slot, first, started, next_attempt, lease_until
    )


def claim(
    conn: sqlite3.Connection,
    job: str,
    schedule: Schedule,
    retry: RetryPolicy,
    now: datetime,
    lease: timedelta,
    token: str,
) -> Due:
    """Claim the job's due attempt, if any, for the scheduler holding `token`."""
    row = read(conn, job)
    if row is None:
        # First sight: the first slot is the one after now, as after a deploy.
        conn.execute(
            "INSERT INTO cron_slots(job, state, anchor) VALUES (?, 'idle', ?)",
            (job, micros(now)),
        )
        return _idle_due(schedule, now)
    interrupted: Claim | None = None
    if row.state == "running":
        assert row.lease_until is not None
        if row.lease_until > now:
            return Due(wake_at=row.lease_until)
        interrupted = _attempt_of(job, row)
        _fail(conn, job, row, retry, now, INTERRUPTED)
        row = read(conn, job)
        assert row is not None
    if row.state == "retrying":
        assert row.next_attempt_at is not None
        assert row.slot is not None
        if row.next_attempt_at > now:
            return Due(wake_at=row.next_attempt_at, interrupted=interrupted)
        attempt = _lease(conn, job, row.slot, row.attempts + 1, now, lease, token)
        return Due(attempt, interrupted=interrupted)
    due = _idle_due(schedule, row.anchor)
    if due.wake_at is None or due.wake_at > now:
        return Due(wake_at=due.wake_at, interrupted=interrupted)
    return Due(_lease(conn, job, due.wake_at, 1, now, lease, token), interrupted=interrupted)


def settle(
    conn: sqlite3.Connection, attempt: Claim, retry: RetryPolicy, now: datetime, error: str | None
) -> Outcome:
    """Record how `attempt` ended: the slot done, retried later, or given up."""
    row = read(conn, attempt.job)
    if row is None or row.state != "running" or row.lease_token != attempt.token:
        return "lost"  # the lease ran out and another scheduler has moved the job on
    if error is None:
        _finish(conn, attempt.job, now, "done", None)
        return "done"
    return _fail(conn, attempt.job, row, retry, now, error)


def renew(conn: sqlite3.Connection, attempt: Claim, lease_until: datetime) -> None:
    conn.execute(
        "UPDATE cron_slots SET lease_until = ? WHERE job = ? AND lease_token = ? "
        "AND state = 'running'",
        (micros(lease_until), attempt.job, attempt.token),
    )


def _idle_due(schedule: Schedule, anchor: datetime) -> Due:
    try:
        return Due(wake_at=schedule.next_after(anchor))
    except ScheduleError:
        return Due()


def _lease(
    conn: sqlite3.Connection,
    job: str,
    slot: datetime,
    attempt: int,
    now: datetime,
    lease: timedelta,
    token: str,
) -> Claim:
    first = "first_attempt_at = ?, " if attempt == 1 else ""
    conn.execute(
        f"UPDATE cron_slots SET state = 'running', slot = ?, attempts = ?, {first}"
        "attempt_started_at = ?, next_attempt_at = NULL, lease_token = ?, lease_until = ? "
        "WHERE job = ?",
        (
            micros(slot),
            attempt,
            *((micros(now),) if attempt == 1 else ()),
            micros(now),
            token,
            micros(now + lease),
            job,
        ),
    )
    return Claim(job, slot, attempt, now, token)


def _fail(
    conn: sqlite3.Connection,
    job: str,
    row: SlotRow,
    retry: RetryPolicy,
    now: datetime,
    error: str,
) -> Outcome:
    first = row.first_attempt_at or now
    if retry.gives_up(row.attempts - 1, now - first):
        _finish(conn, job, now, "failed", error)
        return "failed"
    next_attempt = now + timedelta(seconds=retry.backoff(row.attempts))
    conn.execute(
        "UPDATE cron_slots SET state = 'retrying', next_attempt_at = ?, lease_token = NULL, "
        "lease_until = NULL, last_error = ? WHERE job = ?",
        (micros(next_attempt), error_text(error), job),
    )
    return "retrying"


def _finish(
    conn: sqlite3.Connection, job: str, now: datetime, outcome: Outcome, error: str | None
) -> None:
    conn.execute(
        "UPDATE cron_slots SET state = 'idle', anchor = ?, next_attempt_at = NULL, "
        "lease_token = NULL, lease_until = NULL, outcome = ?, last_error = ? WHERE job = ?",
        (micros(now), outcome, None if error is None else error_text(error), job),
    )


def _attempt_of(job: str, row: SlotRow) -> Claim:
    assert row.slot is not None
    assert row.attempt_started_at is not None
    return Claim(job, row.slot, row.attempts, row.attempt_started_at, row.lease_token or "")
