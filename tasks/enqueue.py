"""`Tasks`: how resolvers and handlers enqueue work, over whichever queue port is wired.

    await tasks.enqueue("fanout", {"photo": key}, name=f"fanout-{photo_id}")

Everything a queue would refuse later is refused here, at the call, with a message
that says what to change: an unregistered handler, an undefined queue, a payload
that is not a JSON object or is too big, a malformed task name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from clock import Clock, system_clock
from tasks.errors import BadTask, UnknownQueue
from tasks.port import DEFAULT_QUEUE, EnqueueResult, TaskQueue, TaskRequest
from tasks.registry import Registry, TaskHandler
from tasks.registry import handlers as default_handlers

# Cloud Tasks' own limits, so that nothing works locally that fails in production.
MAX_TASK_BYTES = 1_000_000
MAX_DELAY = timedelta(days=30)
TASK_NAME = re.compile(r"[A-Za-z0-9_-]{1,500}")


class Tasks:
    def __init__(
        self,
        queue: TaskQueue,
        *,
        queues: Collection[str] = (DEFAULT_QUEUE,),
        handlers: Registry[TaskHandler] = default_handlers,
        clock: Clock = system_clock,
    ) -> None:
        self._queue = queue
        self._queues = frozenset(queues)
        self._handlers = handlers
        self._clock = clock

    async def enqueue(
        self,
        handler: str,
        payload: Mapping[str, Any] | None = None,
        *,
        queue: str = DEFAULT_QUEUE,
        name: str | None = None,
        countdown: float | timedelta | None = None,
        eta: datetime | None = None,
    ) -> EnqueueResult:
        """Add a task; with `name`, a second add of the same name is a no-op
        (`created=False`). `countdown` (seconds) or `eta` delays the first run."""
        self._handlers.require(handler)
        if queue not in self._queues:
            raise UnknownQueue(
                f"queue {queue!r} is not defined in queue.yaml (known: {sorted(self._queues)})"
            )
        if name is not None and not TASK_NAME.fullmatch(name):
            raise BadTask(f"task name must match {TASK_NAME.pattern}: {name!r}")
        request = TaskRequest(
            handler=handler,
            payload=_encode(payload or {}),
            queue=queue,
            name=name,
            eta=self._eta(countdown, eta),
        )
        return await self._queue.add(request)

    def _eta(self, countdown: float | timedelta | None, eta: datetime | None) -> datetime | None:
        if countdown is not None and eta is not None:
            raise BadTask("give countdown or eta, not both")
        now = self._clock()
        if countdown is not None:
            delay = countdown if isinstance(countdown, timedelta) else timedelta(seconds=countdown)
            if delay < timedelta(0):
                raise BadTask(f"countdown must not be negative: {countdown}")
            eta = now + delay
        if eta is None:
            return None
        if eta.tzinfo is None:
            raise BadTask(f"eta must be timezone-aware: {eta!r}")
        if eta - now > MAX_DELAY:
            raise BadTask(f"a task may be delayed at most {MAX_DELAY.days} days")
        return eta


def _encode(payload: Mapping[str, Any]) -> bytes:
    if not isinstance(payload, Mapping):
        raise BadTask(f"a task payload must be a JSON object, not {type(payload).__name__}")
    try:
        data = json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError) as error:
        raise BadTask(f"the task payload is not JSON: {error}") from error
    if len(data) > MAX_TASK_BYTES:
        raise BadTask(f"the task payload is {len(data)} bytes; the limit is {MAX_TASK_BYTES}")
    return data
