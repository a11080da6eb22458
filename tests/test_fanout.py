"""Fan-out on write under the failures a queue delivers: duplicates, interruption,
unfollows racing the fan-out, and deleting a photo that is in many feeds."""

from __future__ import annotations

from pathlib import Path

import httpx

from resolvers import background
from resolvers.pagination import DEFAULT_PAGE_SIZE
from settings import Settings
from store import models, social_models
from store.notification_models import first_item_key
from store.port import Entity, Query, Store
from taskqueue.headers import EMBEDDED_SECRET
from taskqueue.naming import task_name
from tasks.outbox import outbox_records, relay
from tests.test_social import FOLLOW, UNFOLLOW, mutate, uid
from tests.utils.accounts import bearer, call
from tests.utils.builders import BASE_TIME, make_photos, make_user, photo_at
from tests.utils.draining import app_of, drain
from tests.utils.tasks_app import eventually, running_app


async def _followers(store: Store, star: models.User, count: int) -> list[str]:
    fans = [f"fan-{n:04d}" for n in range(count)]
    edges = [
        social_models.edge_entity(social_models.follower_key(star.id, fan), fan, BASE_TIME)
        for fan in fans
    ] + [
        social_models.edge_entity(social_models.following_key(fan, star.id), star.id, BASE_TIME)
        for fan in fans
    ]
    for start in range(0, len(edges), 500):
        await store.put_many(edges[start : start + 500])
    return fans


async def _post(store: Store, http: httpx.AsyncClient, star: models.User) -> models.Photo:
    photo = photo_at(star, 1)
    await store.put_many([models.photo_to_entity(photo)])
    tasks = app_of(http).state.tasks.tasks
    follow_ups = background.after_photo_created(photo)
    await relay(store, tasks, outbox_records(star.key, follow_ups, photo.created_at))
    return photo


async def _feed_items(store: Store, fans: list[str], photo: models.Photo) -> int:
    found = await store.get_many([social_models.feed_item_key(f, photo.key) for f in fans])
    return sum(1 for item in found if item is not None)


async def test_every_batch_delivered_twice_changes_nothing(
    client: httpx.AsyncClient, store: Store
) -> None:
    star = await make_user(store, "star")
    fans = await _followers(store, star, 600)
    photo = await _post(store, client, star)
    await drain(client, within=60)
    assert await _feed_items(store, fans, photo) == 600
    # The first fan read the notification; a duplicate must not mark it unread again.
    note_key = first_item_key(fans[0], "NEW_PHOTO", photo.key.encode())
    [note] = await store.get_many([note_key])
    assert note is not None
    await store.put_many([Entity(note.key, {**note.properties, "unread": False}, note.unindexed)])
    runtime = app_of(client).state.tasks
    payload = {"photo": photo.key.encode(), "sort_key": photo.sort_key, "batch": 0}
    for _ in range(2):
        response = await client.post(
            "/_internal/tasks/fanout_photo",
            json=payload,
            headers={
                EMBEDDED_SECRET: runtime.dispatch_secret,
                "X-AppEngine-TaskName": task_name("fanout_photo", photo.key.encode(), "0"),
                "X-AppEngine-QueueName": "default",
            },
        )
        assert response.status_code == 200, response.text
    await drain(client, within=60)
    assert await _feed_items(store, fans, photo) == 600
    [note] = await store.get_many([note_key])
    assert note is not None
    assert note.properties["unread"] is False


async def test_a_fanout_interrupted_by_a_restart_finishes_after_it(tmp_path: Path) -> None:
    async with running_app(tmp_path) as first:
        star = await make_user(first.store, "star")
        fans = await _followers(first.store, star, 700)
        photo = await _post(first.store, first.http, star)

        # Stop as soon as the first batch is written: later batches are still queued.
        async def first_batch_written() -> bool:
            return await _feed_items(first.store, fans, photo) > 0

        await eventually(first_batch_written, within=30, what="the first fan-out batch")
    async with running_app(tmp_path) as second:
        await drain(second.http, within=60)
        assert await _feed_items(second.store, fans, photo) == 700


async def test_an_unfollow_racing_the_fanout_wins(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    star = await make_user(store, "star")
    quitter = await make_user(store, "quitter")
    fans = await _followers(store, star, 300)
    await _followers_add(store, star, quitter)
    photo = await _post(store, client, star)
    await mutate(client, UNFOLLOW, bearer(settings, quitter.id), userId=uid(star))
    await drain(client, within=60)
    assert await _feed_items(store, fans, photo) == 300
    assert await _feed_items(store, [quitter.id], photo) == 0
    body = await call(
        client,
        "{ viewer { feed { edges { node { id } } } } }",
        headers=bearer(settings, quitter.id),
    )
    assert body["data"]["viewer"]["feed"]["edges"] == []


async def _followers_add(store: Store, star: models.User, fan: models.User) -> None:
    await store.put_many(
        [
            social_models.edge_entity(
                social_models.follower_key(star.id, fan.id), fan.id, BASE_TIME
            ),
            social_models.edge_entity(
                social_models.following_key(fan.id, star.id), star.id, BASE_TIME
            ),
        ]
    )


async def test_deleting_a_photo_that_is_in_1000_feeds(
    client: httpx.AsyncClient, store: Store
) -> None:
    star = await make_user(store, "star")
    fans = await _followers(store, star, 1000)
    photo = await _post(store, client, star)
    await drain(client, within=90)
    assert await _feed_items(store, fans, photo) == 1000
    await store.delete_many([photo.key])
    tasks = app_of(client).state.tasks.tasks
    follow_ups = background.after_photo_deleted(photo.key)
    await relay(store, tasks, outbox_records(star.key, follow_ups, photo.created_at))
    await drain(client, within=90)
    assert await _feed_items(store, fans, photo) == 0
    notes = await store.get_many([first_item_key(f, "NEW_PHOTO", photo.key.encode()) for f in fans])
    assert not any(notes)


async def test_a_follow_backfills_one_page_of_the_followees_photos(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    """A follow copies the followee's newest page, however many photos they have:
    what a follow (and its unfollow's prune) costs does not grow as users post."""
    star = await make_user(store, "star")
    fan = await make_user(store, "fan")
    photos = await make_photos(store, star, DEFAULT_PAGE_SIZE + 5)
    await mutate(client, FOLLOW, bearer(settings, fan.id), userId=uid(star))
    await drain(client, within=60)
    items = await store.page(
        Query(kind=social_models.FEED_ITEM, order_by="sort_key", ancestor=fan.key), limit=100
    )
    newest = [social_models.feed_item_key(fan.id, p.key) for p in photos[:DEFAULT_PAGE_SIZE]]
    assert [r.entity.key for r in items] == newest
    body = await call(
        client,
        "{ viewer { feed { edges { node { caption } } } } }",
        headers=bearer(settings, fan.id),
    )
    shown = [edge["node"]["caption"] for edge in body["data"]["viewer"]["feed"]["edges"]]
    assert shown == [p.caption for p in photos[:DEFAULT_PAGE_SIZE]]
