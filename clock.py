"""The one clock: what time it is, as an aware datetime in UTC.

Everything that stamps, expires or schedules by the calendar asks a `Clock` handed
to it by the app's wiring (`app.create_app(clock=...)`): the request context, the
task and cron contexts, the queue facade, the scheduler, the token verifiers, the
store file's marker (and `mint_dev_token` by its caller). Tests
hand in a fixed or stepping clock through the same port, so none of them sleeps or
races the wall. This module is the only production code that reads the wall clock
for dates (tests/test_clock_guard.py checks); durations use `time.monotonic()`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["Clock", "SystemClock", "epoch_seconds", "system_clock", "system_seconds"]


class Clock(Protocol):
    def __call__(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The wall clock of the machine."""

    def __call__(self) -> datetime:
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


system_clock: Clock = SystemClock()


def epoch_seconds(clock: Clock) -> Callable[[], float]:
    """`clock` as seconds since the epoch: the embedded queue's tables keep times so."""
    return lambda: clock().timestamp()


system_seconds = epoch_seconds(system_clock)
