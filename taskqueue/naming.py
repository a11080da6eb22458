"""Task names: Cloud Tasks allows [A-Za-z0-9_-] only, and ids may hold anything."""

from __future__ import annotations

import hashlib


def task_name(action: str, *parts: str) -> str:
    """A stable name for the task that does `action` for `parts`, so that adding it
    twice is deduplicated by the queue."""
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:40]
    return f"{action}-{digest}"
