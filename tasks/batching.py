"""One task a time bucket: how many events in a second become one write.

A like asks for "fold this photo's like count" and "tell the owner"; fifty likes
a second must not become fifty writes to one entity group. Each such request is
a task named after what it is for and the current time bucket, due at the
bucket's end (and a grace period): every request in one bucket names the same task, the queue keeps
the first and drops the rest, and the one run reads everything that happened
(the records the actions left) when the bucket is over.

A request relayed within the grace period after its bucket closed lands on a
task that has not run yet (the mutation picks the bucket inside its transaction,
just before the commit and the relay), so nothing an action left waits for
the next action. One relayed late (the outbox sweeper relays what a crash left,
tasks/outbox.py) may find its bucket's task run already and be dropped as a
duplicate; what its action left is then found by the next action's task or by
the sweeping cron jobs (tasks/counter_jobs.py, tasks/fan_in_tasks.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tasks.enqueue import Tasks
from tasks.naming import task_name
from tasks.outbox import FollowUp

# About one write a second to any one entity group, Datastore's sustained rate.
BUCKET_SECONDS = 1.0
# A bucket's task waits this long past the bucket's end, so that an action that
# chose its bucket just before the end has committed and been relayed by then.
GRACE_SECONDS = 2.0


def bucket_of(when: datetime) -> int:
    return int(when.timestamp() // BUCKET_SECONDS)


def batched(handler: str, payload: Mapping[str, Any], *parts: str, now: datetime) -> FollowUp:
    """The task that does `handler` for `parts` in the current bucket, due at its
    end: a mutation's follow-up, written to its outbox."""
    bucket = bucket_of(now)
    return FollowUp(
        handler,
        payload,
        name=task_name(handler, *parts, str(bucket)),
        eta=datetime.fromtimestamp((bucket + 1) * BUCKET_SECONDS + GRACE_SECONDS, UTC),
    )


async def enqueue_batched(
    tasks: Tasks,
    handler: str,
    payload: Mapping[str, Any],
    *parts: str,
    now: datetime,
) -> None:
    """Enqueues `batched(...)` directly, from a task or a cron job."""
    follow_up = batched(handler, payload, *parts, now=now)
    await tasks.enqueue(handler, payload, name=follow_up.name, eta=follow_up.eta)
