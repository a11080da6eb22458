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
the next action. An action whose commit lands later than that (a writer queue
under load: a follow's commit has taken 5 s) may come after its bucket's task
has run, and its relay is then dropped as a duplicate, or it relayed nothing
because the task was waiting (tasks/queued_names.py). So after its commit a
mutation looks at the clock (`late`): for each batched task whose eta is less
than MARGIN away or past, it asks for the same task of the bucket it committed
in, which runs after the commit and finds what the action left. Only late
actions ask, each bucket's successor once per process (it is noted as queued),
and what they add is a task, not a write into an entity group. One relayed late by the
outbox sweeper (tasks/outbox.py, after a crash) or whose successor's enqueue
failed leaves what it did to the next action's task or to the sweeping cron
jobs (tasks/counters.py, tasks/fan_in.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from taskqueue.naming import task_name
from taskqueue.port import Enqueuer
from tasks.outbox import FollowUp
from tasks.queued_names import MARGIN

# About one write a second to any one entity group, Datastore's sustained rate.
BUCKET_SECONDS = 1.0
# A bucket's task waits this long past the bucket's end, so that an action that
# chose its bucket just before the end has committed and been relayed by then.
GRACE_SECONDS = 2.0


def bucket_of(when: datetime) -> int:
    return int(when.timestamp() // BUCKET_SECONDS)


@dataclass(frozen=True)
class Batched(FollowUp):
    """A batched task's follow-up, which knows what it is for (`parts`, the name
    without the bucket), so that a late commit can ask for a later bucket's."""

    parts: tuple[str, ...] = ()


def batched(handler: str, payload: Mapping[str, Any], *parts: str, now: datetime) -> Batched:
    """The task that does `handler` for `parts` in the current bucket, due at its
    end: a mutation's follow-up, written to its outbox."""
    bucket = bucket_of(now)
    return Batched(
        handler,
        payload,
        name=task_name(handler, *parts, str(bucket)),
        eta=datetime.fromtimestamp((bucket + 1) * BUCKET_SECONDS + GRACE_SECONDS, UTC),
        parts=parts,
    )


def late(follow_ups: Iterable[FollowUp], committed_at: datetime) -> list[Batched]:
    """For each batched follow-up whose task may have run before a commit made at
    `committed_at` (its eta is less than MARGIN after it), the same task of the
    bucket of `committed_at`: a later bucket (MARGIN is less than the grace),
    whose task runs at least the grace after the commit."""
    successors: dict[str | None, Batched] = {}
    for follow_up in follow_ups:
        if not isinstance(follow_up, Batched) or follow_up.eta is None:
            continue
        if committed_at + MARGIN > follow_up.eta:
            successor = batched(
                follow_up.handler, follow_up.payload, *follow_up.parts, now=committed_at
            )
            successors[successor.name] = successor
    return list(successors.values())


async def enqueue_batched(
    tasks: Enqueuer,
    handler: str,
    payload: Mapping[str, Any],
    *parts: str,
    now: datetime,
) -> None:
    """Enqueues `batched(...)` directly, from a task or a cron job."""
    follow_up = batched(handler, payload, *parts, now=now)
    await tasks.enqueue(handler, payload, name=follow_up.name, eta=follow_up.eta)
