"""The task queue port: what the app asks of a queue, whichever queue it is.

A task names a registered handler and carries a JSON object; the queue delivers it
as `POST /_internal/tasks/<handler>` with App Engine's task headers, at least once,
and retries until the route answers 2xx or the queue's retry limits run out.

A named task is deduplicated: adding a second task with a name the queue has seen
recently (while queued, running, or within the dedup window after it finished) is a
no-op reported as `created=False`, as Cloud Tasks answers ALREADY_EXISTS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

DEFAULT_QUEUE = "default"


@dataclass(frozen=True)
class TaskRequest:
    handler: str
    payload: bytes  # a JSON object, encoded as UTF-8
    queue: str = DEFAULT_QUEUE
    name: str | None = None
    eta: datetime | None = None  # aware; None means now


@dataclass(frozen=True)
class EnqueueResult:
    name: str
    created: bool  # False: a task of this name already exists or ran recently

    @property
    def already_exists(self) -> bool:
        return not self.created


class TaskQueue(Protocol):
    async def add(self, request: TaskRequest) -> EnqueueResult: ...


class Enqueuer(Protocol):
    """What handlers and jobs enqueue through (`ctx.tasks`), whichever queue is wired:
    `enqueue.Tasks`, which checks each task against the registry and queue.yaml.

    A port rather than `Tasks` itself, so that what a handler is handed
    (`context.py`) does not depend on the registry of handlers that are typed by it.
    """

    async def enqueue(
        self,
        handler: str,
        payload: Mapping[str, Any] | None = None,
        *,
        queue: str = DEFAULT_QUEUE,
        name: str | None = None,
        countdown: float | timedelta | None = None,
        eta: datetime | None = None,
    ) -> EnqueueResult: ...


@dataclass(frozen=True)
class PendingTask:
    """A task still to run (or running now): what an admin lists and may delete."""

    name: str
    queue: str
    handler: str
    # Aware: when it is (or was) due. None only where the server leaves it out: the
    # Cloud Tasks emulator, for a task added without one (Cloud Tasks sets it).
    eta: datetime | None
    attempts: int  # dispatched so far, one running now included (Cloud Tasks' dispatch_count)


@dataclass(frozen=True)
class PurgeResult:
    purged: int | None  # None: the queue does not say (Cloud Tasks)
    # Attempts already dispatched when the purge took effect: each may finish, none is
    # retried, and none is marked done. Empty where the queue does not say.
    running: tuple[str, ...] = ()


class TaskQueueAdmin(Protocol):
    """What an operator may do to a queue, as Cloud Tasks' admin calls do.

    A deleted or purged task never runs again: an attempt already dispatched may
    finish, but its outcome is dropped (no retry, nothing marked done). A paused
    queue keeps its tasks and dispatches nothing until it is resumed; a pause
    outlives restarts (embedded: a row in the SQLite file; Cloud Tasks: the
    queue's state).
    """

    async def pending(self, queue: str, limit: int) -> list[PendingTask]: ...

    async def delete(self, queue: str, name: str) -> bool:
        """False: no pending task of that name on that queue."""
        ...

    async def purge(self, queue: str) -> PurgeResult: ...

    async def pause(self, queue: str) -> None: ...

    async def resume(self, queue: str) -> None: ...

    async def is_paused(self, queue: str) -> bool: ...
