"""An action that asks for a batched task its process has already put in the queue
writes no outbox record for it, so nothing is relayed (tasks/queued_names.py):
counted in the queue's adds, with the counts and notifications complete once the
queue has run, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from settings import Settings
from store import activity_models
from store.port import Store
from taskqueue.port import EnqueueResult, TaskQueue, TaskRequest
from tasks.outbox import FollowUp
from tasks.queued_names import QueuedNames
from tests.test_counters_api import like_count
from tests.test_outbox import outbox_records
from tests.test_social import LIKE, UNLIKE, mutate, pid
from tests.utils.accounts import bearer
from tests.utils.builders import owner_and_fan
from tests.utils.clients import app_client
from tests.utils.draining import StoppedClock, drain, settle_relays

PHOTOS = 5


class CountedQueue(TaskQueue):
    """The real queue, keeping the handler of each add it was asked for."""

    def __init__(self, inner: TaskQueue) -> None:
        self.inner = inner
        self.adds: list[str] = []

    async def add(self, request: TaskRequest) -> EnqueueResult:
        self.adds.append(request.handler)
        return await self.inner.add(request)


async def test_actions_asking_for_a_waiting_task_relay_nothing(
    store: Store, settings: Settings
) -> None:
    owner, photos, fan = await owner_and_fan(store, PHOTOS)
    as_fan = bearer(settings, fan.id)
    queues: list[CountedQueue] = []

    def counted(inner: TaskQueue) -> TaskQueue:
        queues.append(CountedQueue(inner))
        return queues[0]

    async with app_client(settings, store, clock=StoppedClock(), queue_layer=counted) as http:
        for photo in photos:
            await mutate(http, LIKE, as_fan, photoId=pid(photo))
            await settle_relays(http)  # each relay ends before the next action
        # The first like asked for its bucket's fold and the owner's fan-in; the
        # others found both waiting in the queue (each was two adds before).
        assert sorted(queues[0].adds) == ["fan_in", "fold_all_counters"]
        assert await outbox_records(store) == []

        await drain(http)
        assert [await like_count(http, photo) for photo in photos] == PHOTOS * [1]
        assert await store.page(activity_models.pending_for(owner.id), limit=10) == []

        # After the bucket's tasks ran, an action asks for its own bucket's again.
        asked = len(queues[0].adds)  # the tasks' own adds (pushes) included
        await mutate(http, UNLIKE, as_fan, photoId=pid(photos[0]))
        await settle_relays(http)
        assert queues[0].adds[asked:] == ["fold_all_counters"]
        await drain(http)
        assert await like_count(http, photos[0]) == 0


def test_a_task_counts_as_waiting_only_well_before_its_eta() -> None:
    now = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
    eta = now + timedelta(seconds=3)
    queued = QueuedNames()
    queued.note("fold-7", eta)
    same = FollowUp("fold_all_counters", {}, name="fold-7", eta=eta)
    assert queued.still_to_ask([same], now) == []
    # Too close to its eta (it may run before the commit), another eta, another name.
    assert queued.still_to_ask([same], eta - timedelta(milliseconds=500)) == [same]
    later = FollowUp("fold_all_counters", {}, name="fold-7", eta=eta + timedelta(seconds=1))
    other = FollowUp("fan_in", {}, name="fan-in-7", eta=eta)
    assert queued.still_to_ask([later, other], now) == [later, other]
