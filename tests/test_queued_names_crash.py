"""Killing the server (SIGKILL) after an action that wrote no outbox record for a
batched task already in the queue (tasks/queued_names.py), before that task ran,
then starting it again: the task still does the action's follow-up work, once.

The first server's clock stands still (tests/utils/crash_points.py `queued-batch`),
so both likes fall in one time bucket and the bucket's tasks do not come due before
the kill; the second server runs on the wall clock, which is past their eta.
"""

from __future__ import annotations

import pytest

from tests.test_counters_api import PHOTO
from tests.test_social import LIKE, pid
from tests.utils.builders import make_photos, make_user
from tests.utils.crash_server import CrashSite
from tests.utils.tasks_app import eventually

# It starts a server twice and waits for the bucket's tasks to come due.
pytestmark = pytest.mark.slow

BATCHED = ["fan_in", "fold_all_counters"]  # what a like asks for (tasks/batching.py)


async def test_a_kill_after_a_skipped_follow_up_still_does_its_work_once(
    crash: CrashSite,
) -> None:
    store = crash.store
    alice = await make_user(store, "alice")
    bob, carol = await make_user(store, "bob"), await make_user(store, "carol")
    [photo] = await make_photos(store, alice, 1)
    # Signed before the server's clock stops, so that they were not issued after it.
    as_bob, as_carol = crash.bearer(bob), crash.bearer(carol)
    async with crash.server("queued-batch") as first:
        liked = await first.graphql(LIKE, as_bob, photoId=pid(photo))
        assert liked["data"]["likePhoto"]["errors"] == []

        async def relayed() -> bool:
            rows = await crash.task_rows()
            return await crash.outbox_count() == 0 and sorted(r.handler for r in rows) == BATCHED

        # Enqueued, then the records deleted: the relay has noted both names.
        await eventually(relayed, within=30, what="the first like's follow-ups to be queued")

        liked = await first.graphql(LIKE, as_carol, photoId=pid(photo))
        assert liked["data"]["likePhoto"]["errors"] == []
        # Committed and answered without a record: one would stay here, its relay
        # hanging on the name already added.
        assert await crash.outbox_count() == 0
        first.kill()
    rows = await crash.task_rows()
    assert sorted((r.handler, r.state) for r in rows) == [(h, "queued") for h in BATCHED]

    async with crash.server("none") as second:
        await crash.settle()
        assert await crash.notices(second, alice) == {"LIKE": 2}
        counted = await second.http.post(
            "/graphql", json={"query": PHOTO, "variables": {"id": pid(photo)}}
        )
    assert counted.json()["data"]["node"]["likeCount"] == 2
    # Each ran once, as one task (the fan-in then asked for the push of the notification).
    ran = sorted((r.handler, r.state) for r in await crash.task_rows())
    assert [row for row in ran if row[0] in BATCHED] == [(h, "done") for h in BATCHED]
