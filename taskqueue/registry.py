"""Task handlers and cron jobs, registered by name at import time.

    @task_handler("fanout")
    async def fanout(payload: Payload, ctx: TaskContext) -> None: ...

    @cron_job("prune_idempotency_records")
    async def prune(ctx: JobContext) -> None: ...

A name is part of a URL (`/_internal/tasks/<name>`) and outlives a deploy in queued
tasks, so names are short, lower-case and never reused for something else.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from taskqueue.errors import UnknownHandler

if TYPE_CHECKING:
    from taskqueue.context import JobContext, TaskContext

Payload = Mapping[str, Any]
TaskHandler = Callable[[Payload, "TaskContext"], Awaitable[None]]
CronJob = Callable[["JobContext"], Awaitable[None]]

F = TypeVar("F", bound=Callable[..., Awaitable[None]])
_NAME = re.compile(r"[a-z][a-z0-9_]{0,99}")


class Registry(Generic[F]):
    def __init__(self, what: str) -> None:
        self._what = what
        self._entries: dict[str, F] = {}

    def register(self, name: str, function: F) -> F:
        if not _NAME.fullmatch(name):
            raise ValueError(f"{self._what} name must match {_NAME.pattern}: {name!r}")
        existing = self._entries.get(name)
        if existing is not None and existing is not function:
            raise ValueError(f"{self._what} {name!r} is already registered to {existing!r}")
        self._entries[name] = function
        return function

    def __call__(self, name: str) -> Callable[[F], F]:
        """The decorator form: `@handlers("name")`."""
        return lambda function: self.register(name, function)

    def get(self, name: str) -> F | None:
        return self._entries.get(name)

    def require(self, name: str) -> F:
        function = self._entries.get(name)
        if function is None:
            raise UnknownHandler(f"no {self._what} is registered as {name!r}")
        return function

    def names(self) -> list[str]:
        return sorted(self._entries)


handlers: Registry[TaskHandler] = Registry("task handler")
cron_jobs: Registry[CronJob] = Registry("cron job")
task_handler = handlers
cron_job = cron_jobs
