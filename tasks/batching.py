"""One task a time bucket: how many events in a second become one write.

A like asks for "fold this photo's like count" and "tell the owner"; fifty likes
a second must not become fifty writes to one entity group. Each such request is
a task named after what it is for and the current time bucket, due at the
bucket's end: every request in one bucket names the same task, the queue keeps
the first and drops the rest, and the one run reads everything that happened
(the records the actions left) when the bucket is over.

A request enqueued while its bucket is open always lands on a task that has not
run yet (it is due when the bucket closes), so nothing an action left waits for
the next action. What a lost enqueue (a crash between commit and enqueue) left
behind is found by the sweeping cron jobs (tasks/counter_jobs.py,
tasks/fan_in_tasks.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tasks.enqueue import Tasks
from tasks.naming import task_name

# About one write a second to any one entity group, Datastore's sustained rate.
BUCKET_SECONDS = 1.0


def bucket_of(when: datetime) -> int:
    return int(when.timestamp() // BUCKET_SECONDS)


async def enqueue_batched(
    tasks: Tasks,
    handler: str,
    payload: Mapping[str, Any],
    *parts: str,
    now: datetime | None = None,
) -> None:
    """Enqueues `handler` once for `parts` in the current bucket, due at its end."""
    bucket = bucket_of(now or datetime.now(UTC))
    await tasks.enqueue(
        handler,
        payload,
        name=task_name(handler, *parts, str(bucket)),
        eta=datetime.fromtimestamp((bucket + 1) * BUCKET_SECONDS, UTC),
    )
