"""The counters' fold is one task a time bucket for every counter (tasks/counters.py
`fold_all_counters`), not one per counter: an action's follow-up work counted in
tasks, and the counts exact once it ran, on both stores."""

from __future__ import annotations

from collections import Counter

from settings import Settings
from store import counters
from store.port import Store
from taskqueue.embedded.queue import list_tasks
from tasks.runtime import TaskRuntime
from tests.test_counters_api import like_count
from tests.test_social import FOLLOW, LIKE, mutate, pid, uid
from tests.utils.accounts import bearer
from tests.utils.builders import owner_and_fan
from tests.utils.clients import app_client
from tests.utils.draining import StoppedClock, app_of, drain, settle_relays

PHOTOS = 6


async def test_actions_on_many_counters_in_one_bucket_ask_for_one_fold(
    store: Store, settings: Settings
) -> None:
    owner, photos, fan = await owner_and_fan(store, PHOTOS)
    as_fan = bearer(settings, fan.id)
    async with app_client(settings, store, clock=StoppedClock()) as http:
        for photo in photos:
            await mutate(http, LIKE, as_fan, photoId=pid(photo))
        await mutate(http, FOLLOW, as_fan, userId=uid(owner))  # two counters more
        await settle_relays(http)
        runtime: TaskRuntime = app_of(http).state.tasks
        assert runtime.db is not None
        rows = await runtime.db.read(lambda conn: list_tasks(conn, None, 1000))
        # Eight counters changed (six photos' likes, a follower and a following
        # count): one fold for all of them, and one fan-in for their one owner.
        assert Counter(row.handler for row in rows) == {"fold_all_counters": 1, "fan_in": 1}

        await drain(http)
        assert [await like_count(http, photo) for photo in photos] == PHOTOS * [1]
        assert await store.page(counters.all_deltas(), limit=10) == []
