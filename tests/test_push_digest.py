"""The daily digest, on both stores: who gets one, that nobody gets two in a day,
and that the scan pages through the day's notifications (ties included)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from push.outbox import OutboxPush
from settings import Settings
from store import models
from store.device_models import Device, device_to_entity, digest_sent_key
from store.notification_models import Notification, notification_to_entity
from store.port import Store
from taskqueue.headers import EMBEDDED_SECRET
from taskqueue.naming import task_name
from tasks.push_notifications import daily_digest, resume_after
from tests.test_social import FOLLOW, mutate, uid
from tests.test_social_background import MARK_READ
from tests.utils.accounts import bearer
from tests.utils.builders import make_user
from tests.utils.contexts import app_job_context
from tests.utils.devices import device_token, register
from tests.utils.draining import app_of, drain


async def digests(http: httpx.AsyncClient) -> list[tuple[str, str]]:
    outbox = app_of(http).state.push
    assert isinstance(outbox, OutboxPush)
    return sorted(
        (entry.token, entry.body)
        for entry in await outbox.recent(1000)
        if entry.data["type"] == "digest"
    )


async def run_cron(http: httpx.AsyncClient) -> None:
    secret = {EMBEDDED_SECRET: app_of(http).state.tasks.dispatch_secret}
    response = await http.get("/_internal/cron/daily_digest", headers=secret)
    assert response.status_code == 200, response.text
    await drain(http)


async def test_one_digest_a_day_for_the_unread_who_were_not_pushed(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    alice, bob, carol, dave, erin = [
        await make_user(store, name) for name in ("alice", "bob", "carol", "dave", "erin")
    ]
    await register(client, bearer(settings, carol.id), device_token("carol"), "IOS")
    for followee in (bob, carol, dave):
        await mutate(client, FOLLOW, bearer(settings, alice.id), userId=uid(followee))
    await drain(client)  # carol is pushed now; bob and dave have no device yet
    for user in (bob, dave, erin):
        await register(client, bearer(settings, user.id), device_token(user.username), "ANDROID")
    await mutate(client, MARK_READ, bearer(settings, dave.id))

    await run_cron(client)
    expected = [(device_token("bob"), "You have 1 unread notification")]
    assert await digests(client) == expected
    await run_cron(client)  # a retried or repeated run the same day sends nothing more
    assert await digests(client) == expected
    today = datetime.now(UTC).date()
    assert (await store.get_many([digest_sent_key(bob.id, today)]))[0] is not None

    # The next day, a new unread notification: another digest, counting both.
    tomorrow = datetime.now(UTC) + timedelta(hours=25)
    liked = Notification(
        bob.id, "LIKE", "User/x/Photo/y", [alice.id], 1, True, tomorrow - timedelta(hours=1)
    )
    await store.put_many([notification_to_entity(liked)])
    job = app_job_context(client, "daily_digest", clock=lambda: tomorrow)
    await daily_digest(job)
    await daily_digest(job)
    await drain(client)
    assert await digests(client) == [
        *expected,
        (device_token("bob"), "You have 2 unread notifications"),
    ]


async def test_the_scan_pages_through_ties_and_reaches_everyone_once(
    client: httpx.AsyncClient, store: Store
) -> None:
    now = datetime.now(UTC)
    users = [f"reader{n}" for n in range(10)]
    # Fan-out gives many followers' notifications one sort key: groups of three here.
    notices = [
        Notification(
            user,
            "NEW_PHOTO",
            "User/star/Photo/p",
            ["star"],
            1,
            True,
            now - timedelta(minutes=n // 3 + 1),
        )
        for n, user in enumerate(users)
    ]
    devices = [Device(user, device_token(user), "WEB", now) for user in users]
    await store.put_many([*map(notification_to_entity, notices), *map(device_to_entity, devices)])
    day = now.date().isoformat()
    tasks = app_of(client).state.tasks.tasks
    window = {
        "day": day,
        "since": models.sort_key(now - timedelta(hours=24), ""),
        "until": models.sort_key(now, ""),
        "batch": 0,
        "page": 4,
    }
    await tasks.enqueue("digest_scan", window, name=task_name("digest_scan", day, "0"))
    await drain(client)
    assert await digests(client) == sorted(
        (device_token(u), "You have 1 unread notification") for u in users
    )


def test_a_page_resumes_before_its_last_run_of_equal_keys() -> None:
    assert resume_after(["a", "b", "c", "c"]) == "b"
    assert resume_after(["a", "b", "c"]) == "b"
    assert resume_after(["c", "c", "c"]) == "c"  # all one key: move on
