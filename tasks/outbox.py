"""The transactional outbox: follow-up tasks commit with the write that calls for them.

    outbox = Outbox()
    async def effect(tx, found):                       # inside run_mutation's transaction
        ...
        outbox.add(FollowUp("fanout_photo", {"photo": ...}, name=task_name(...)))
    await run_mutation(context, ..., effect=effect, outbox=outbox)

1. Written: each follow-up becomes an `Outbox` entity under a root of the
   commit's own (not the viewer's group, which the relay's delete would make
   the viewer's next mutation retry), in the same commit as the effect. Committed means the
   follow-up will happen; rolled back means it never existed.
2. Relayed: right after the commit, `relay` enqueues each record under its task
   name, then deletes the records. A follow-up without a name of its own is named
   after its record, so every relay of one record is the same named task, and the
   queue (both adapters answer an existing name with `created=False`) collapses a
   repeat. A relay that fails leaves the records for the sweeper; the mutation's
   answer does not depend on it, nor wait for it: a request's relay runs after
   its response, as one of the app's `Relays`.
3. Swept: the `relay_outbox` cron job relays records older than SWEEP_AGE (a
   crash's leftovers, a queue that was down), and the embedded runtime sweeps once
   at start-up. It is a global query, eventually consistent on Datastore: a record
   it does not see yet is caught by the next run. Relays may overlap (a request's
   and the sweeper's): the names dedupe the tasks, and deleting a deleted record
   is a no-op.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from store import models
from store.keys import Key
from store.port import Entity, Store
from taskqueue.context import JobContext
from taskqueue.naming import task_name
from taskqueue.port import DEFAULT_QUEUE, Enqueuer
from taskqueue.registry import cron_job
from tasks.cleanup import drain
from tasks.grouped_deletes import GroupedDeletes
from tasks.queued_names import QueuedNames

OUTBOX = "Outbox"
# Older than any relay still in flight after its commit; younger ones are the request's.
SWEEP_AGE = timedelta(seconds=10)
# Relays running after their responses; a request past this relays before it answers.
RELAYS_IN_FLIGHT = 256
# Shutdown waits this long for them (SIGTERM must exit within 10 s).
RELAYS_SHUTDOWN_SECONDS = 1.0
_UNINDEXED = frozenset({"handler", "queue", "name", "payload", "created_at", "eta"})
log = logging.getLogger("timeline.tasks.outbox")


@dataclass(frozen=True)
class FollowUp:
    """One task to enqueue once the transaction commits."""

    handler: str
    payload: Mapping[str, Any]
    name: str | None = None  # deterministic names let a retried request add nothing new
    queue: str = DEFAULT_QUEUE
    eta: datetime | None = None  # not before (batched tasks wait for their bucket's end)


class Outbox:
    """The follow-ups of one transaction. An effect calls `add`; `run_mutation`
    empties it before each attempt, writes it with the commit and relays it after."""

    def __init__(self) -> None:
        self._items: list[FollowUp] = []

    def add(self, *follow_ups: FollowUp) -> None:
        for follow_up in follow_ups:
            # Refused at the call rather than at relay time, after the commit.
            json.dumps(follow_up.payload, allow_nan=False)
        self._items.extend(follow_ups)

    @property
    def items(self) -> tuple[FollowUp, ...]:
        return tuple(self._items)

    def clear(self) -> None:
        self._items.clear()


def outbox_records(group: Key, follow_ups: Sequence[FollowUp], now: datetime) -> list[Entity]:
    """The entities that hold `follow_ups` in `group`, to be written in the transaction."""
    records = []
    for follow_up in follow_ups:
        record_id = models.new_id()
        key = group.child(OUTBOX, record_id)
        records.append(
            Entity(
                key,
                {
                    "handler": follow_up.handler,
                    "queue": follow_up.queue,
                    "name": follow_up.name or task_name(follow_up.handler, key.encode()),
                    "payload": json.dumps(follow_up.payload, separators=(",", ":")),
                    "created_at": now,
                    "sort_key": models.sort_key(now, record_id),
                    **({"eta": follow_up.eta} if follow_up.eta else {}),
                },
                unindexed=_UNINDEXED,
            )
        )
    return records


class RelayIncomplete(Exception):
    """Some records could not be enqueued; they stay for the sweeper."""


class Noted(Protocol):
    """Where a relay notes the batched tasks it enqueued (tasks/queued_names.py)."""

    def note(self, name: str, eta: datetime) -> None: ...


async def relay(
    store: Store,
    tasks: Enqueuer,
    records: Sequence[Entity],
    deletes: GroupedDeletes | None = None,
    noted: Noted | None = None,
) -> None:
    """Enqueue each record's task, then delete the records that were enqueued
    (through `deletes`, shared with other relays, when given), noting in `noted`
    the tasks with an eta once the queue holds them.
    Raises RelayIncomplete (after deleting the others) if any enqueue failed."""
    results = await asyncio.gather(
        *(_enqueue(tasks, record, noted) for record in records), return_exceptions=True
    )
    relayed = [r.key for r, result in zip(records, results, strict=True) if result is None]
    if relayed:
        await (deletes.delete(relayed) if deletes is not None else store.delete_many(relayed))
    failures = [result for result in results if isinstance(result, BaseException)]
    if failures:
        raise RelayIncomplete(
            f"{len(failures)} of {len(records)} outbox record(s) not enqueued: {failures[0]!r}"
        ) from failures[0]


async def _enqueue(tasks: Enqueuer, record: Entity, noted: Noted | None) -> None:
    await _enqueue_follow_up(tasks, follow_up_of(record), noted)


def follow_up_of(record: Entity) -> FollowUp:
    """The follow-up an outbox record holds (`outbox_records` the other way)."""
    props = record.properties
    eta = props.get("eta")
    return FollowUp(
        str(props["handler"]),
        json.loads(str(props["payload"])),
        name=str(props["name"]),
        queue=str(props["queue"]),
        eta=eta if isinstance(eta, datetime) else None,
    )


async def relay_after_commit(
    store: Store,
    tasks: Enqueuer,
    records: Sequence[Entity],
    deletes: GroupedDeletes | None = None,
    noted: Noted | None = None,
) -> None:
    """The request's relay: never raises, since the write it follows has committed."""
    if not records:
        return
    try:
        await relay(store, tasks, records, deletes, noted)
    except Exception:
        log.warning("outbox relay failed; the relay_outbox sweeper will retry", exc_info=True)


async def enqueue_after_commit(
    tasks: Enqueuer, follow_ups: Sequence[FollowUp], noted: Noted | None = None
) -> None:
    """Enqueue what a commit asks for once it is made: the later buckets' tasks of
    the batched ones it may have come too late for (tasks/batching.py `late`).
    Not in the outbox, which was committed already; never raises: what a failed
    enqueue leaves waits for the next action's task or the sweeping cron jobs."""
    results = await asyncio.gather(
        *(_enqueue_follow_up(tasks, follow_up, noted) for follow_up in follow_ups),
        return_exceptions=True,
    )
    failures = [result for result in results if isinstance(result, BaseException)]
    if failures:
        log.warning(
            "%d task(s) asked for after a late commit not enqueued; the sweeping cron "
            "jobs will do their work",
            len(failures),
            exc_info=failures[0],
        )


async def _enqueue_follow_up(tasks: Enqueuer, follow_up: FollowUp, noted: Noted | None) -> None:
    await tasks.enqueue(
        follow_up.handler,
        follow_up.payload,
        queue=follow_up.queue,
        name=follow_up.name,
        eta=follow_up.eta,
    )
    if noted is not None and follow_up.name is not None and follow_up.eta is not None:
        noted.note(follow_up.name, follow_up.eta)  # added now or found there: it waits


class Backpressure(Protocol):
    """How far the queue's workers are behind (taskqueue/embedded/backlog.py)."""

    @property
    def over(self) -> bool: ...

    async def under_limit(self) -> None: ...


class Relays:
    """The requests' relays, run after their responses as tasks of the app.

    A mutation's answer waits only for its commit: once its records are in the
    store the follow-ups are as good as queued (a relay cut off is the sweeper's),
    so the relay's writes to the queue and the outbox need not hold the client.
    At most `limit` relays run at once; past that, a request relays before it
    answers, as it did before, so a burst cannot pile up unbounded work. While the
    queue's workers are too far behind (`backlog`, the embedded queue's), a request
    relays before it answers and then waits for them: requests slow down to the
    pace of their follow-ups, so the backlog stays bounded. The app's
    lifespan `close`s them at shutdown; tests `settle` them before they look at the
    queue or the outbox."""

    def __init__(
        self,
        store: Store,
        tasks: Enqueuer,
        *,
        limit: int = RELAYS_IN_FLIGHT,
        backlog: Backpressure | None = None,
    ) -> None:
        self._store = store
        self._tasks = tasks
        self._limit = limit
        self._backlog = backlog
        self._running: set[asyncio.Task[None]] = set()
        self._deletes = GroupedDeletes(store)  # relays that end together delete together
        # Batched tasks its relays enqueued: actions that ask for them again add no record.
        self.queued = QueuedNames()

    @property
    def running(self) -> int:
        return len(self._running)

    async def after_commit(self, records: Sequence[Entity], late: Sequence[FollowUp] = ()) -> None:
        """Relay a commit's outbox `records`, and enqueue the tasks it asked for
        once it was made (`late`, tasks/batching.py)."""
        if not records and not late:
            return
        relaying = self._relay(records, late)
        if self._backlog is not None and self._backlog.over:
            # Backpressure: the answer waits for the relay and for the workers.
            await relaying
            await self._backlog.under_limit()
            return
        if len(self._running) >= self._limit:
            await relaying
            return
        task = asyncio.create_task(relaying)
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _relay(self, records: Sequence[Entity], late: Sequence[FollowUp]) -> None:
        await relay_after_commit(self._store, self._tasks, records, self._deletes, self.queued)
        await enqueue_after_commit(self._tasks, late, self.queued)

    async def settle(self) -> None:
        """Until no relay runs, those started meanwhile included."""
        while self._running:
            await asyncio.wait(set(self._running))

    async def close(self, within: float = RELAYS_SHUTDOWN_SECONDS) -> None:
        """Settle for at most `within` seconds, then cancel the rest: their records
        stay in the store, for the start-up sweep of the next process."""
        try:
            await asyncio.wait_for(self.settle(), within)
        except TimeoutError:
            log.warning(
                "%d outbox relay(s) cut off at shutdown; the sweeper has them", self.running
            )
            for task in set(self._running):
                task.cancel()
            await asyncio.gather(*self._running, return_exceptions=True)


async def sweep(store: Store, tasks: Enqueuer, older_than: datetime) -> int:
    """Relay every outbox record written before `older_than`; how many it found.
    Raises RelayIncomplete once the pass is over if any could not be relayed."""
    incomplete: list[RelayIncomplete] = []

    async def relay_batch(records: Sequence[Entity]) -> None:
        try:
            await relay(store, tasks, records)
        except RelayIncomplete as error:
            incomplete.append(error)

    seen = await drain(store, OUTBOX, "sort_key", older_than, relay_batch)
    if incomplete:
        raise incomplete[0]
    return seen


@cron_job("relay_outbox")
async def relay_outbox(ctx: JobContext) -> None:
    swept = await sweep(ctx.store, ctx.tasks, ctx.clock() - SWEEP_AGE)
    if swept:
        log.info("relayed %d outbox record(s) left behind", swept)
