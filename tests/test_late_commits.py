"""An action whose commit lands after its bucket's task ran (a writer queue under
load) asks for a later bucket's task once it has committed (tasks/batching.py
`late`): its count and its owner's notifications are brought up to date without
another action and without the sweeping cron jobs, on both stores."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta

from settings import Settings
from store import activity_models
from store.port import Store, Transaction
from tasks.batching import GRACE_SECONDS, batched, bucket_of, late
from tasks.outbox import FollowUp
from tests.test_counters_api import like_count
from tests.test_social import LIKE, mutate, pid
from tests.utils.accounts import bearer
from tests.utils.builders import owner_and_fan
from tests.utils.clients import app_client
from tests.utils.delegating_store import DelegatingStore
from tests.utils.draining import StoppedClock, drain, settle_relays


class HeldCommit(DelegatingStore):
    """The store port; once `armed`, the next transaction to start waits just
    before its commit until `release` is set (`waiting` says it got there)."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.armed = False
        self.waiting = asyncio.Event()
        self.release = asyncio.Event()

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        held, self.armed = self.armed, False
        return self._transaction(held)

    @asynccontextmanager
    async def _transaction(self, held: bool) -> AsyncIterator[Transaction]:
        async with self.inner.transaction() as tx:
            yield tx
            if held:
                self.waiting.set()
                await self.release.wait()


async def test_a_like_committed_after_its_buckets_task_ran_is_folded_and_fanned_in(
    store: Store, settings: Settings
) -> None:
    owner, (first, second), fan = await owner_and_fan(store, 2)
    as_fan = bearer(settings, fan.id)
    held = HeldCommit(store)
    async with app_client(settings, held, clock=StoppedClock()) as http:
        await mutate(http, LIKE, as_fan, photoId=pid(first))
        await settle_relays(http)  # the bucket's fold and fan-in are queued
        held.armed = True
        liking = asyncio.create_task(mutate(http, LIKE, as_fan, photoId=pid(second)))
        async with asyncio.timeout(10):
            await held.waiting.wait()  # the second like chose the bucket; not committed
        await drain(http)  # the bucket's tasks run, past their eta
        assert await like_count(http, first) == 1
        assert not liking.done()  # the held commit was the second like's
        held.release.set()
        body = await liking  # commits now, after the tasks that were its bucket's
        assert body["errors"] == []

        await drain(http)  # no other action, no cron job
        assert await like_count(http, second) == 1
        assert await store.page(activity_models.pending_for(owner.id), limit=10) == []


def test_only_a_commit_near_or_past_a_batched_tasks_eta_asks_for_a_later_one() -> None:
    chosen = datetime(2030, 6, 1, 12, 0, 0, 500_000, tzinfo=UTC)
    fold = batched("fold_all_counters", {}, now=chosen)
    fan_in = batched("fan_in", {"owner": "o"}, "o", now=chosen)
    plain = FollowUp("prune_feed", {"follower": "a", "followee": "b"})
    assert fold.eta is not None
    # In time: the task runs after the commit (at its eta, at least 1 s later).
    assert late([fold, fan_in, plain], fold.eta - timedelta(seconds=1)) == []

    committed_at = fold.eta - timedelta(milliseconds=500)
    successors = late([fold, fan_in, plain, fold], committed_at)
    assert [s.handler for s in successors] == ["fold_all_counters", "fan_in"]
    for successor, asked in zip(successors, (fold, fan_in), strict=True):
        assert successor.payload == asked.payload
        assert (
            successor.name
            == batched(asked.handler, asked.payload, *asked.parts, now=committed_at).name
        )
        assert successor.name != asked.name
        assert successor.eta is not None
        assert successor.eta >= committed_at + timedelta(seconds=GRACE_SECONDS)
    assert bucket_of(committed_at) > bucket_of(chosen)
