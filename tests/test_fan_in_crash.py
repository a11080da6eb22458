"""Killing the server (SIGKILL) inside the fan-in and the push, on each store, then
starting it again: every notification is complete and pushed, once.

    fan-in-commit  a fan_in run has committed the owner's notifications (and its
                   FanInMark); its pushes, backfills and deletes have not happened
    push-recorded  a push has gone out and its receipt has committed; the queue
                   has not heard that the task ended, so it runs it again; and
                   another push's send is in flight (claimed, not recorded)

The servers push to the FCM stub (tests/utils/fcm_stub.py), which counts sends.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest

from store import activity_models, models
from store.keys import Key
from taskqueue.embedded.queue import TaskRow
from tasks.push_delivery import Receipt, read_receipt
from tests.test_social import ADD_COMMENT, FOLLOW, LIKE, pid, uid
from tests.utils.builders import make_photos, make_user
from tests.utils.crash_server import CrashSite, Server
from tests.utils.devices import device_token, register
from tests.utils.fcm_stub import FcmStub, held
from tests.utils.tasks_app import eventually

# Each test starts a server twice and waits out leases and fan-in buckets.
pytestmark = pytest.mark.slow


PHONE = device_token("alice-phone")
ALL_PUSHED = ["COMMENT", "FOLLOW", "LIKE"]
ALL_NOTIFIED = {"FOLLOW": 1, "LIKE": 1, "COMMENT": 1}


@dataclass
class Acted:
    server: Server
    alice: models.User  # with PHONE registered
    bob: models.User  # who followed alice, liked and commented on her photo


def pushing_to(crash: CrashSite, fcm: FcmStub, hang: str) -> Server:
    return crash.server(
        hang,
        TIMELINE_PUSH="fcm",
        TIMELINE_FCM_PROJECT=fcm.project,
        TIMELINE_FCM_ENDPOINT=fcm.url,
        TIMELINE_FCM_CREDENTIALS=str(fcm.write_service_account(crash.var / "fcm.json")),
    )


@asynccontextmanager
async def acted_on(crash: CrashSite, fcm: FcmStub, hang: str) -> AsyncIterator[Acted]:
    """A server hanging at `hang`, where bob has followed alice, liked and commented
    on her photo, each acknowledged."""
    alice, bob = await make_user(crash.store, "alice"), await make_user(crash.store, "bob")
    [photo] = await make_photos(crash.store, alice, 1)
    async with pushing_to(crash, fcm, hang) as server:
        await register(server.http, crash.bearer(alice), PHONE)
        for mutation, field, args in (
            (FOLLOW, "follow", {"userId": uid(alice)}),
            (LIKE, "likePhoto", {"photoId": pid(photo)}),
            (ADD_COMMENT, "addComment", {"photoId": pid(photo), "text": "hi"}),
        ):
            answer = await server.graphql(mutation, crash.bearer(bob), **args)
            assert answer["data"][field]["errors"] == [], answer
        yield Acted(server, alice, bob)


def kinds_pushed(fcm: FcmStub) -> list[str]:
    return sorted(sent.message["message"]["data"]["kind"] for sent in fcm.sent_to(PHONE))


async def test_a_kill_after_a_fan_in_commits_still_pushes_each_notification_once(
    crash: CrashSite, fcm: FcmStub
) -> None:
    async with acted_on(crash, fcm, "fan-in-commit") as first:
        alice, bob = first.alice, first.bob

        async def applied() -> bool:
            return await crash.store.get_many([activity_models.mark_key(alice.id)]) != [None]

        await eventually(applied, within=30, what="the fan-in to commit and stall")
        first.server.kill()
    assert fcm.sent == []  # the run died before it asked for any push

    async with pushing_to(crash, fcm, "none") as second:
        await crash.settle()
        assert await crash.notices(second, alice) == ALL_NOTIFIED
        assert len(await crash.feed(second, bob)) == 1  # the follow's backfill
    assert kinds_pushed(fcm) == ALL_PUSHED


async def test_a_kill_mid_push_sends_nothing_twice(crash: CrashSite, fcm: FcmStub) -> None:
    # The first of the three sends is held in flight at the stub; the other two are
    # answered and recorded, and their tasks hang before they end.
    release = threading.Event()
    fcm.answer(PHONE, held(release))
    async with acted_on(crash, fcm, "push-recorded") as first:
        alice = first.alice

        async def receipts() -> list[Receipt]:
            pushes = [r for r in await crash.task_rows() if r.handler == "push"]
            found = await crash.store.get_many([receipt_of(r, alice) for r in pushes])
            return [read_receipt(receipt) for receipt in found]

        async def one_in_flight_two_recorded() -> bool:
            states = sorted((bool(r.done), bool(r.sending)) for r in await receipts())
            return len(fcm.sent) == 3 and states == [(False, True), (True, False), (True, False)]

        await eventually(one_in_flight_two_recorded, within=30, what="the pushes to stall")
        first.server.kill()
        release.set()
    assert kinds_pushed(fcm) == ALL_PUSHED

    async with pushing_to(crash, fcm, "none") as second:

        async def each_push_ran_again() -> bool:
            pushes = [r for r in await crash.task_rows() if r.handler == "push"]
            return all(r.retry_count >= 1 and r.state != "leased" for r in pushes)

        await eventually(each_push_ran_again, within=30, what="the push tasks to run again")
        assert await crash.notices(second, alice) == ALL_NOTIFIED
    # The recorded ones are done; the one cut off in flight waits for its claim
    # to lapse (the window docs/PUSH.md describes), and neither sent again.
    assert kinds_pushed(fcm) == ALL_PUSHED
    pushes = [r for r in await crash.task_rows() if r.handler == "push"]
    assert sorted(r.state for r in pushes) == ["done", "done", "queued"]
    [waiting] = [r for r in pushes if r.state == "queued"]
    assert "being sent to by another delivery" in str(waiting.last_error)


def receipt_of(row: TaskRow, user: models.User) -> Key:
    """The receipt a push task keeps (tasks/push_delivery.receipt_key, from its row)."""
    digest = hashlib.sha256(f"{row.queue}/{row.name}".encode()).hexdigest()[:32]
    return Key.of(models.IDEMPOTENCY_RECORD, f"push:{user.id}:{digest}")
