"""The task queue port: what the app asks of a queue, whichever queue it is.

A task names a registered handler and carries a JSON object; the queue delivers it
as `POST /_internal/tasks/<handler>` with App Engine's task headers, at least once,
and retries until the route answers 2xx or the queue's retry limits run out.

A named task is deduplicated: adding a second task with a name the queue has seen
recently (while queued, running, or within the dedup window after it finished) is a
no-op reported as `created=False`, as Cloud Tasks answers ALREADY_EXISTS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

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
