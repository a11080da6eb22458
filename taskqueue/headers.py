"""The headers a task delivery carries, and how the internal routes read them.

App Engine targets get `X-AppEngine-*` (App Engine strips these from outside
requests, which is why they can be trusted there); Cloud Tasks HTTP targets get the
same facts as `X-CloudTasks-*`, trusted only with a verified OIDC token. The
embedded dispatcher sends App Engine's set plus its per-process secret.

The queue comes as its short id (`default`) from App Engine and from Cloud Tasks,
whose documentation describes X-CloudTasks-QueueName as "the name of the queue"
and X-CloudTasks-TaskName as the task's "short" name; the Cloud Tasks emulator
sends the full resource name (`projects/p/locations/l/queues/default`). Both
read as the short id, so that a task's idempotency record, its push digest and
its run log line are the same whichever delivered it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime

from taskqueue.context import TaskInfo

EMBEDDED_SECRET = "x-timeline-dispatch-secret"
APP_ENGINE_CRON = "x-appengine-cron"
APP_ENGINE_QUEUE = "x-appengine-queuename"
_PREFIXES = ("x-appengine-", "x-cloudtasks-")
# Cloud Tasks' queue resource name; its last segment is the queue id.
_QUEUE_RESOURCE = re.compile(r"projects/[^/]+/locations/[^/]+/queues/([A-Za-z0-9-]+)")
_QUEUE_ID = re.compile(r"[A-Za-z0-9-]+")


class MissingTaskHeaders(ValueError):
    """The request does not say which task it delivers."""


def app_engine_task_headers(
    queue: str, name: str, retry_count: int, execution_count: int, eta: float
) -> dict[str, str]:
    return {
        "X-AppEngine-QueueName": queue,
        "X-AppEngine-TaskName": name,
        "X-AppEngine-TaskRetryCount": str(retry_count),
        "X-AppEngine-TaskExecutionCount": str(execution_count),
        "X-AppEngine-TaskETA": f"{eta:.6f}",
    }


def task_info(headers: Mapping[str, str], handler: str) -> TaskInfo:
    """Read the delivery's queue, name, counts and eta; header names are lower-case."""
    for prefix in _PREFIXES:
        queue = headers.get(prefix + "queuename")
        name = headers.get(prefix + "taskname")
        if queue and name:
            return TaskInfo(
                handler=handler,
                queue=queue_id(queue),
                name=name,
                retry_count=_count(headers.get(prefix + "taskretrycount")),
                execution_count=_count(headers.get(prefix + "taskexecutioncount")),
                eta=_eta(headers.get(prefix + "tasketa")),
            )
    raise MissingTaskHeaders("a task delivery needs X-AppEngine-QueueName and -TaskName")


def queue_id(header: str) -> str:
    """`default` from `default` or from `projects/p/locations/l/queues/default`."""
    resource = _QUEUE_RESOURCE.fullmatch(header)
    if resource is not None:
        return resource.group(1)
    if _QUEUE_ID.fullmatch(header) is None:
        raise MissingTaskHeaders(f"{header[:100]!r} is neither a queue id nor a queue's name")
    return header


def _count(value: str | None) -> int:
    try:
        return max(0, int(value or "0"))
    except ValueError:
        return 0


def _eta(value: str | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(value), UTC) if value else None
    except (ValueError, OverflowError, OSError):
        return None
