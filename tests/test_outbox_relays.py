"""A mutation answers once its effect (and its outbox records) committed; the relay to
the queue runs after the answer, as one of the app's `Relays` (tasks/outbox.py).

The queue port is held shut by a gate: a mutation that still waited for its relay
would never answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest

from settings import Settings
from store.port import Store
from taskqueue.enqueue import Tasks
from taskqueue.port import EnqueueResult, TaskQueue, TaskRequest
from tasks.outbox import FollowUp, Relays, outbox_records
from tasks.runtime import TaskRuntime
from tests.test_outbox import alice_bob_and_a_photo, notices, queued_names
from tests.test_outbox import outbox_records as stored_records
from tests.test_social import LIKE, mutate, pid
from tests.utils.accounts import bearer
from tests.utils.builders import make_user
from tests.utils.clients import app_over_queue
from tests.utils.draining import app_of, drain

# A generous bound on a request that should answer at once; only a hang reaches it.
HANG = 30.0


class GatedQueue(TaskQueue):
    """The real queue behind a gate: every add waits until the gate opens."""

    def __init__(self, inner: TaskQueue) -> None:
        self.inner = inner
        self.gate = asyncio.Event()
        self.arrived: asyncio.Queue[str | None] = asyncio.Queue()  # each add's task name

    async def add(self, request: TaskRequest) -> EnqueueResult:
        self.arrived.put_nowait(request.name)
        await self.gate.wait()
        return await self.inner.add(request)


@dataclass(frozen=True)
class Gated:
    http: httpx.AsyncClient
    relays: Relays
    queue: GatedQueue


@pytest.fixture
async def gated(store: Store, settings: Settings) -> AsyncIterator[Gated]:
    async with app_over_queue(settings, store, GatedQueue) as (http, queue):
        try:
            yield Gated(http, app_of(http).state.relays, queue)
        finally:
            queue.gate.set()  # lets the lifespan's close settle what is left


async def test_a_mutation_answers_while_its_relay_waits_for_the_queue(
    gated: Gated, settings: Settings, store: Store
) -> None:
    alice, bob, photo = await alice_bob_and_a_photo(store)
    async with asyncio.timeout(HANG):
        liked = await mutate(gated.http, LIKE, bearer(settings, bob.id), photoId=pid(photo))
    assert liked["errors"] == []
    # Answered with the effect and its follow-ups committed, none of them queued yet.
    assert gated.relays.running == 1
    assert sorted(str(r.properties["handler"]) for r in await stored_records(store)) == [
        "fan_in",
        "fold_all_counters",
    ]
    assert await queued_names(app_runtime(gated)) == []

    gated.queue.gate.set()
    await drain(gated.http)  # settles the relays first
    assert gated.relays.running == 0
    assert await stored_records(store) == []
    assert await notices(gated.http, settings, alice) == {"LIKE": 1}


async def test_shutdown_cuts_off_a_stuck_relay_and_leaves_its_records(
    gated: Gated, settings: Settings, store: Store
) -> None:
    """A relay still waiting at shutdown is cancelled after a bound: its records stay
    for the next start's sweep, as after a crash (tests/test_outbox_crash.py)."""
    _, bob, photo = await alice_bob_and_a_photo(store)
    async with asyncio.timeout(HANG):
        await mutate(gated.http, LIKE, bearer(settings, bob.id), photoId=pid(photo))
    await gated.relays.close(within=0)
    assert gated.relays.running == 0
    assert len(await stored_records(store)) == 2


class Recorded(TaskQueue):
    """A queue that only keeps what it was given."""

    def __init__(self) -> None:
        self.names: list[str | None] = []

    async def add(self, request: TaskRequest) -> EnqueueResult:
        self.names.append(request.name)
        return EnqueueResult(request.name or "", True)


async def test_past_its_bound_a_request_relays_before_it_answers(store: Store) -> None:
    """Relays never pile up: with `limit` running, the next one runs in the request."""
    queue = GatedQueue(Recorded())
    relays = Relays(store, Tasks(queue), limit=1)
    bob = await make_user(store, "bob")
    first, second = (
        outbox_records(bob.key, [FollowUp("fold_counter", {}, name=name)], datetime.now(UTC))
        for name in ("first", "second")
    )
    await store.put_many([*first, *second])
    await relays.after_commit(first)  # in the background: returns while the queue waits
    assert relays.running == 1
    inline = asyncio.create_task(relays.after_commit(second))
    assert [await queue.arrived.get() for _ in range(2)] == ["first", "second"]
    assert not inline.done()  # the second waits in its request
    assert relays.running == 1
    queue.gate.set()
    await inline
    await relays.settle()
    assert isinstance(queue.inner, Recorded)
    assert sorted(n or "" for n in queue.inner.names) == ["first", "second"]
    assert await store.get_many([r.key for r in [*first, *second]]) == [None, None]


def app_runtime(gated: Gated) -> TaskRuntime:
    runtime: TaskRuntime = app_of(gated.http).state.tasks
    return runtime


async def test_relays_that_end_together_delete_their_records_in_one_write(store: Store) -> None:
    """Each relay used to delete its records in a store write of its own: under
    load, one writer job per mutation on the embedded file (tasks/grouped_deletes.py)."""
    relays = Relays(store, Tasks(Recorded()))
    bob = await make_user(store, "bob")
    now = datetime.now(UTC)
    batches = [
        outbox_records(bob.key, [FollowUp("fold_counter", {}, name=f"t{n}")], now)
        for n in range(20)
    ]
    await store.put_many([record for batch in batches for record in batch])
    before = store.round_trips
    for batch in batches:
        await relays.after_commit(batch)
    await relays.settle()
    assert store.round_trips - before == 1  # one delete_many for the twenty relays
    keys = [record.key for batch in batches for record in batch]
    assert await store.get_many(keys) == [None] * len(keys)
