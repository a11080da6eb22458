"""Pushes through the queue into the local outbox, on both stores: a like or a
follow reaches the recipient's devices in the notification's own words, once."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from push.outbox import OutboxEntry, OutboxPush
from settings import Settings
from store import models
from store.notification_models import first_item_key, notification_from_entity
from store.port import Store
from tasks.push_notifications import notification_version
from tests.test_social import FOLLOW, LIKE, mutate, pid, uid
from tests.utils.accounts import bearer
from tests.utils.builders import make_photos, make_user
from tests.utils.devices import device_token, devices_of, post_task, register
from tests.utils.draining import app_of, drain


def outbox_of(http: httpx.AsyncClient) -> OutboxPush:
    push = app_of(http).state.push
    assert isinstance(push, OutboxPush)
    return push


async def pushes(http: httpx.AsyncClient) -> list[OutboxEntry]:
    """Oldest first."""
    return list(reversed(await outbox_of(http).recent(100)))


@pytest.mark.slow  # waits seconds for batched background tasks
async def test_a_like_and_a_follow_reach_every_device_of_the_recipient(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    as_alice, as_bob = bearer(settings, alice.id), bearer(settings, bob.id)
    phone, browser = device_token("bob-phone"), device_token("bob-web")
    await register(client, as_bob, phone, "IOS")
    await register(client, as_bob, browser, "WEB")
    await register(client, as_alice, device_token("alice-phone"), "ANDROID")
    [photo] = await make_photos(store, bob, 1)

    await mutate(client, LIKE, as_alice, photoId=pid(photo))
    await drain(client)
    sent = await pushes(client)
    assert {(p.token, p.title, p.body) for p in sent} == {
        (phone, "Photo Timeline", "alice liked your photo"),
        (browser, "Photo Timeline", "alice liked your photo"),
    }
    assert all(p.data == {"type": "notification", "kind": "LIKE"} for p in sent)
    ios = next(p.message["message"] for p in sent if p.platform == "IOS")
    assert ios["apns"]["headers"]["apns-push-type"] == "alert"
    web = next(p.message["message"] for p in sent if p.platform == "WEB")
    assert web["webpush"]["notification"]["tag"] == ios["apns"]["headers"]["apns-collapse-id"]

    await mutate(client, FOLLOW, as_alice, userId=uid(bob))
    await mutate(client, FOLLOW, as_bob, userId=uid(alice))
    await drain(client)
    bodies = {(p.token, p.body) for p in (await pushes(client))[2:]}
    assert bodies == {
        (phone, "alice started following you"),
        (browser, "alice started following you"),
        (device_token("alice-phone"), "bob started following you"),
    }
    android = next(p for p in await pushes(client) if p.platform == "ANDROID")
    assert android.message["message"]["android"]["priority"] == "HIGH"


@pytest.mark.slow  # waits seconds for batched background tasks
async def test_coalesced_likes_push_the_current_wording(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    owner = await make_user(store, "owner")
    await register(client, bearer(settings, owner.id), device_token("owner"), "ANDROID")
    [photo] = await make_photos(store, owner, 1)
    for n in range(3):
        fan = await make_user(store, f"fan{n}")
        await mutate(client, LIKE, bearer(settings, fan.id), photoId=pid(photo))
        await drain(client)
    assert [p.body for p in await pushes(client)] == [
        "fan0 liked your photo",
        "fan1 and 1 other liked your photo",
        "fan2 and 2 others liked your photo",
    ]
    keys = {p.message["message"]["android"]["collapse_key"] for p in await pushes(client)}
    assert len(keys) == 1  # each replaces the last on the phone


async def test_a_push_delivered_twice_is_sent_once_and_a_stale_one_not_at_all(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    await register(client, bearer(settings, bob.id), device_token("bob"), "IOS")
    await mutate(client, FOLLOW, bearer(settings, alice.id), userId=uid(bob))
    await drain(client)
    assert len(await pushes(client)) == 1
    [found] = await store.get_many([first_item_key(bob.id, "FOLLOW", "")])
    assert found is not None
    notice = notification_from_entity(found)
    payload = {
        "recipient": bob.id,
        "notification": notice.key.encode(),
        "version": notification_version(notice),
    }
    for retry in range(2):
        answer = await post_task(client, "push", payload, "push-by-hand", retry)
        assert answer.status_code == 200, answer.text
    assert len(await pushes(client)) == 2  # the hand-made task's one push, not two

    older = models.sort_key(datetime(2020, 1, 1, tzinfo=UTC), notice.key.name)
    stale = {**payload, "version": older}
    assert (await post_task(client, "push", stale, "push-stale")).status_code == 200
    assert len(await pushes(client)) == 2


async def test_a_token_the_service_calls_dead_is_removed(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    as_bob = bearer(settings, bob.id)
    old, new = device_token("old-install"), device_token("new-install")
    await register(client, as_bob, old, "ANDROID")
    await register(client, as_bob, new, "ANDROID")
    outbox_of(client).unregister_blocking(old)
    await mutate(client, FOLLOW, bearer(settings, alice.id), userId=uid(bob))
    await drain(client)
    assert {(p.token, p.status) for p in await pushes(client)} == {
        (old, "unregistered"),
        (new, "delivered"),
    }
    assert [d.token for d in await devices_of(store, bob.id)] == [new]


async def test_nobody_is_pushed_for_their_own_action_or_without_devices(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    await register(client, bearer(settings, alice.id), device_token("alice"), "IOS")
    [photo] = await make_photos(store, alice, 1)
    await mutate(client, LIKE, bearer(settings, alice.id), photoId=pid(photo))
    await mutate(client, FOLLOW, bearer(settings, alice.id), userId=uid(bob))  # bob: no device
    await drain(client)
    assert await pushes(client) == []
