"""What the command-printing deploy tools share: gcloud's duration form, the
backoff flags Cloud Tasks queues and Cloud Scheduler jobs both take, and one
shell-quoted command per line (ready for `| sh`, or for reading first)."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterable

from taskqueue.backoff import RetryPolicy


def duration(seconds: float) -> str:
    """gcloud's duration flags: 30s, 0.1s, 7200s."""
    return f"{seconds:g}s"


def backoff_flags(retry: RetryPolicy) -> list[str]:
    flags = [
        f"--min-backoff={duration(retry.min_backoff_seconds)}",
        f"--max-backoff={duration(retry.max_backoff_seconds)}",
        f"--max-doublings={retry.max_doublings}",
    ]
    if retry.task_age_limit is not None:
        flags.append(f"--max-retry-duration={duration(retry.task_age_limit.total_seconds())}")
    return flags


def print_commands(commands: Iterable[list[str]]) -> None:
    for command in commands:
        sys.stdout.write(shlex.join(command) + "\n")
