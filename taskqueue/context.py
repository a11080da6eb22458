"""What a task handler or a cron job is handed: ports and the delivery's facts.

Handlers see only ports (the store, the task queue's Enqueuer, a blob deleter, the
push sender, the mail service), never an adapter class or a Starlette request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from clock import Clock, system_clock
from mail.service import MailService
from push.port import PushSender
from store.port import Store
from taskqueue.port import Enqueuer


class BlobDeleter(Protocol):
    """The part of the blob store port (media.BlobStore) that cleanup jobs need."""

    async def delete(self, names: Sequence[str]) -> None:
        """Delete what exists of `names`; a missing name is not an error."""
        ...


@dataclass(frozen=True)
class TaskInfo:
    """The delivery, as App Engine's (or Cloud Tasks') headers describe it."""

    handler: str
    queue: str
    name: str
    retry_count: int = 0  # earlier attempts of this task
    execution_count: int = 0  # earlier attempts that reached a handler and failed
    eta: datetime | None = None


@dataclass(frozen=True)
class TaskContext:
    store: Store
    tasks: Enqueuer
    info: TaskInfo
    push: PushSender  # the local outbox or FCM: production always has one
    clock: Clock = system_clock
    mail: MailService | None = None  # None where e-mail is off (TIMELINE_MAIL=off)


@dataclass(frozen=True)
class JobContext:
    store: Store
    tasks: Enqueuer
    job: str
    blobs: BlobDeleter  # files on disk or Cloud Storage: production always has one
    push: PushSender
    clock: Clock = system_clock
    mail: MailService | None = None  # None where e-mail is off (TIMELINE_MAIL=off)
