"""When a failed task runs again, and when it stops: Cloud Tasks' retry rules.

Backoff, as Cloud Tasks documents RetryConfig: the first retry waits min_backoff;
the interval doubles max_doublings times, then grows linearly by the last doubling
interval (min_backoff * 2**max_doublings), and never exceeds max_backoff. With
min 10 s, max 300 s and 3 doublings the retries wait 10, 20, 40, 80, 160, 240, 300,
300, ... seconds.

Stopping: task_retry_limit counts retries (App Engine's meaning; Cloud Tasks'
max_attempts is that plus one) and task_age_limit counts from the first attempt.
When both are set the task stops only once both are exhausted; with neither, it
retries for ever, as App Engine does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class RetryPolicy:
    task_retry_limit: int | None = None
    task_age_limit: timedelta | None = None
    min_backoff_seconds: float = 0.1
    max_backoff_seconds: float = 3600.0
    max_doublings: int = 16

    def __post_init__(self) -> None:
        if self.min_backoff_seconds > self.max_backoff_seconds:
            raise ValueError(
                f"min_backoff_seconds ({self.min_backoff_seconds}) exceeds "
                f"max_backoff_seconds ({self.max_backoff_seconds})"
            )
        if self.max_doublings < 0 or (self.task_retry_limit or 0) < 0:
            raise ValueError("max_doublings and task_retry_limit must not be negative")

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1 for the first retry)."""
        if retry < 1:
            raise ValueError(f"retries are numbered from 1, not {retry}")
        doublings = min(retry - 1, self.max_doublings)
        interval = self.min_backoff_seconds * 2.0**doublings
        if retry - 1 > self.max_doublings:
            interval *= retry - self.max_doublings
        return min(interval, self.max_backoff_seconds)

    def gives_up(self, retries_done: int, age: timedelta) -> bool:
        """True when a task that has already been retried `retries_done` times and
        has just failed again, `age` after its first attempt, must not run again."""
        by_count = self.task_retry_limit is not None and retries_done >= self.task_retry_limit
        by_age = self.task_age_limit is not None and age >= self.task_age_limit
        if self.task_retry_limit is not None and self.task_age_limit is not None:
            return by_count and by_age
        return by_count or by_age
