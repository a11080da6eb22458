"""Killing the server (SIGKILL) at each step between a write and its follow-up work,
then starting it again: every committed write's follow-ups happen, once in effect.

The server runs in a subprocess, on each store (the embedded file, and Datastore
through the session's emulator) with the embedded queue, and with one step made
to hang through a port (tests/utils/crash_points.py), so the kill lands exactly
there:

    relay       committed and answered, outbox records written, nothing enqueued
    after-add   enqueued, outbox records not yet deleted (answered too: a request's
                relay runs after its answer, tasks/outbox.py `Relays`)
    feed-write  a backfill task cut off inside its handler
"""

from __future__ import annotations

import pytest

from store import social_models
from tests.test_social import ADD_COMMENT, FOLLOW, LIKE, pid, uid
from tests.utils.builders import make_photos, make_user
from tests.utils.crash_server import OUTBOX_QUERY, CrashSite
from tests.utils.tasks_app import eventually

# Each test starts a server twice and waits out leases and fan-in buckets.
pytestmark = pytest.mark.slow

# The three mutations' outbox records: each asks for the fold of the counters it
# changed (the follow two, followers and following; the like and the comment one)
# and for the owner's fan-in (tasks/batching.py, tasks/counters.py).
FOLLOW_UPS = 6


@pytest.mark.parametrize("hang", ["relay", "after-add"])
async def test_a_kill_between_commit_and_relay_loses_no_follow_up(
    crash: CrashSite, hang: str
) -> None:
    store = crash.store
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    photos = await make_photos(store, alice, 2)
    async with crash.server(hang) as first:
        as_bob = crash.bearer(bob)
        # Each request is answered once committed; its relay hangs after the answer.
        answers = [
            await first.graphql(FOLLOW, as_bob, userId=uid(alice)),
            await first.graphql(LIKE, as_bob, photoId=pid(photos[0])),
            await first.graphql(ADD_COMMENT, as_bob, photoId=pid(photos[0]), text="hi"),
        ]
        assert [next(iter(a["data"].values()))["errors"] for a in answers] == [[], [], []]

        async def committed() -> bool:
            records = await store.page(OUTBOX_QUERY, limit=500)
            if len(records) < FOLLOW_UPS:
                return False
            # after-add: every record's task is in the queue (batched tasks share
            # a name, so there are fewer tasks than records).
            names = {str(r.entity.properties["name"]) for r in records}
            return hang == "relay" or names <= {r.name for r in await crash.task_rows()}

        await eventually(committed, within=30, what="the writes to commit and stall")
        first.kill()
        if hang == "after-add":
            stranded = await crash.outbox_count()
            assert stranded == FOLLOW_UPS, "the kill should leave enqueued records behind"

    async with crash.server("none") as second:
        await crash.settle()
        assert await crash.notices(second, alice) == {"FOLLOW": 1, "LIKE": 1, "COMMENT": 1}
        assert sorted(await crash.feed(second, bob)) == sorted(p.caption for p in photos)
    rows = await crash.task_rows()
    # One backfill for the one follow, however often its records were relayed.
    assert [r.handler for r in rows].count("backfill_feed") == 1
    assert {r.state for r in rows} == {"done"}


async def test_a_kill_inside_a_task_handler_runs_it_again_to_one_effect(crash: CrashSite) -> None:
    store = crash.store
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    photos = await make_photos(store, alice, 3)
    async with crash.server("feed-write") as first:
        answer = await first.graphql(FOLLOW, crash.bearer(bob), userId=uid(alice))
        assert answer["data"]["follow"]["errors"] == []  # acknowledged

        async def backfilling() -> bool:
            rows = await crash.task_rows()
            return any(r.handler == "backfill_feed" and r.state == "leased" for r in rows)

        await eventually(backfilling, within=30, what="the backfill to hang in its handler")
        first.kill()

    async with crash.server("none") as second:
        await crash.settle()
        assert sorted(await crash.feed(second, bob)) == sorted(p.caption for p in photos)
        assert await crash.notices(second, alice) == {"FOLLOW": 1}
    edge = social_models.following_key(bob.id, alice.id)
    assert await store.get_many([edge]) != [None]  # the acknowledged write
    backfills = [r for r in await crash.task_rows() if r.handler == "backfill_feed"]
    [backfill] = backfills
    assert backfill.retry_count >= 1  # cut off, then run again
