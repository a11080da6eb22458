"""The social flow end to end: mutations enqueue, the queue drains, feeds and
notifications show the result. On both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from resolvers.node_ids import to_global_id
from settings import Settings
from store import models
from store.port import Store
from tests.test_social import ADD_COMMENT, FOLLOW, LIKE, UNFOLLOW, mutate, pid, uid
from tests.utils.accounts import bearer, call
from tests.utils.builders import BASE_TIME, make_user
from tests.utils.draining import drain

FEED = """{ viewer { feed(first: 20) { edges { node { caption owner { username } } } } } }"""
NOTIFICATIONS = """{ viewer { unreadNotificationCount notifications(first: 10) {
  edges { node { id kind actorCount unread message photo { caption } } } } } }"""
MARK_READ = """mutation($i: MarkNotificationsReadInput!) { markNotificationsRead(input: $i) {
  unreadNotificationCount errors { code field } } }"""


async def _post_photo(
    store: Store, owner: models.User, http: httpx.AsyncClient, n: int
) -> models.Photo:
    """What createPhoto does after its upload: the photo, then the fan-out's relay."""
    from resolvers import background
    from tasks.outbox import outbox_records, relay

    photo = models.Photo(
        owner.id, f"{owner.username}-{n}", f"{owner.username} #{n}", models_time(n)
    )
    await store.put_many([models.photo_to_entity(photo)])
    runtime = http._transport.app.state.tasks  # type: ignore[attr-defined]
    follow_ups = background.after_photo_created(photo)
    await relay(store, runtime.tasks, outbox_records(owner.key, follow_ups, photo.created_at))
    return photo


def models_time(n: int) -> datetime:
    """Photo n's creation time: posted now, as createPhoto does (a follow made a
    moment earlier precedes it), photo n a minute after photo n - 1."""
    return datetime.now(UTC) + timedelta(minutes=n)


async def _feed(http: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    body = await call(http, FEED, headers=headers)
    assert "errors" not in body, body
    return [e["node"]["caption"] for e in body["data"]["viewer"]["feed"]["edges"]]


@pytest.mark.slow  # waits seconds for batched background tasks
async def test_follow_post_like_comment_reach_feed_and_notifications(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    as_alice, as_bob = bearer(settings, alice.id), bearer(settings, bob.id)
    await mutate(client, FOLLOW, as_alice, userId=uid(bob))
    await mutate(client, FOLLOW, as_bob, userId=uid(alice))
    photo = await _post_photo(store, bob, client, 1)
    await drain(client)
    assert await _feed(client, as_alice) == [photo.caption]

    await mutate(client, LIKE, as_alice, photoId=pid(photo))
    await mutate(client, ADD_COMMENT, as_alice, photoId=pid(photo), text="lovely")
    await drain(client)
    body = await call(client, NOTIFICATIONS, headers=as_bob)
    viewer = body["data"]["viewer"]
    kinds = {e["node"]["kind"]: e["node"] for e in viewer["notifications"]["edges"]}
    assert set(kinds) == {"FOLLOW", "LIKE", "COMMENT"}
    assert kinds["LIKE"]["message"] == "alice liked your photo"
    assert kinds["LIKE"]["photo"] == {"caption": photo.caption}
    assert viewer["unreadNotificationCount"] == 3

    alice_notes = await call(client, NOTIFICATIONS, headers=as_alice)
    alice_kinds = {
        e["node"]["kind"]: e["node"]
        for e in alice_notes["data"]["viewer"]["notifications"]["edges"]
    }
    assert set(alice_kinds) == {"FOLLOW", "NEW_PHOTO"}
    assert alice_kinds["NEW_PHOTO"]["message"] == "bob posted a photo"
    assert alice_kinds["FOLLOW"]["message"] == "bob started following you"

    marked = await mutate(client, MARK_READ, as_bob)
    assert marked == {"unreadNotificationCount": 0, "errors": []}


async def test_likes_from_many_coalesce_into_one_notification(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    owner = await make_user(store, "owner")
    photo = await _post_photo(store, owner, client, 1)
    fans = [await make_user(store, f"fan{n}") for n in range(5)]
    for fan in fans:
        await mutate(client, LIKE, bearer(settings, fan.id), photoId=pid(photo))
    await mutate(client, LIKE, bearer(settings, owner.id), photoId=pid(photo))
    await drain(client)
    body = await call(client, NOTIFICATIONS, headers=bearer(settings, owner.id))
    [edge] = body["data"]["viewer"]["notifications"]["edges"]
    assert edge["node"]["actorCount"] == 5
    assert edge["node"]["message"] == "fan4 and 4 others liked your photo"


@pytest.mark.slow  # waits seconds for batched background tasks
async def test_mark_read_up_to_one_notification(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    star = await make_user(store, "star")
    photos = [await _post_photo(store, star, client, n) for n in range(3)]
    fan = await make_user(store, "fan")
    as_fan = bearer(settings, fan.id)
    for photo in photos:
        await mutate(client, LIKE, as_fan, photoId=pid(photo))
        await drain(client)
    as_star = bearer(settings, star.id)
    edges = (await call(client, NOTIFICATIONS, headers=as_star))["data"]["viewer"]["notifications"][
        "edges"
    ]
    middle = edges[1]["node"]["id"]
    marked = await mutate(client, MARK_READ, as_star, upTo=middle)
    assert marked == {"unreadNotificationCount": 1, "errors": []}
    other = await mutate(client, MARK_READ, as_fan, upTo=middle)
    assert other["errors"] == [{"code": "NOT_FOUND", "field": "upTo"}]


@pytest.mark.slow  # waits seconds for batched background tasks
async def test_unfollow_removes_the_followees_photos_from_the_feed(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    as_alice = bearer(settings, alice.id)
    photos = [await _post_photo(store, bob, client, n) for n in range(3)]
    await mutate(client, FOLLOW, as_alice, userId=uid(bob))
    await drain(client)
    assert await _feed(client, as_alice) == [p.caption for p in reversed(photos)]
    await mutate(client, UNFOLLOW, as_alice, userId=uid(bob))
    assert await _feed(client, as_alice) == []  # hidden at once, before the task runs
    await drain(client)
    await mutate(client, FOLLOW, as_alice, userId=uid(bob))
    await drain(client)
    assert await _feed(client, as_alice) == [p.caption for p in reversed(photos)]


@pytest.mark.parametrize("followers", [600])
async def test_fanout_reaches_every_follower_in_batches(
    client: httpx.AsyncClient, settings: Settings, store: Store, followers: int
) -> None:
    from store import social_models

    star = await make_user(store, "star")
    fans = [f"fan-{n:04d}" for n in range(followers)]
    # Both halves, as follows and their fan-in leave them; the fan-out reads the
    # star's half and re-checks each follower's own.
    edges = [
        social_models.edge_entity(social_models.follower_key(star.id, f), f, BASE_TIME)
        for f in fans
    ] + [
        social_models.edge_entity(social_models.following_key(f, star.id), star.id, BASE_TIME)
        for f in fans
    ]
    for start in range(0, len(edges), 500):
        await store.put_many(edges[start : start + 500])
    photo = await _post_photo(store, star, client, 1)
    await drain(client, within=60)
    keys = [social_models.feed_item_key(f, photo.key) for f in fans]
    found = await store.get_many(keys)
    assert all(found), f"{sum(1 for f in found if f is None)} followers missed the photo"
    assert to_global_id("Photo", photo.key)


async def test_a_posted_photo_reaches_its_owner_at_once_and_followers_after_the_queue(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    """The issue's "done when": two users follow each other, one posts, the
    other's feed and notifications show it after the queue drains."""
    from tests.utils.images import png
    from tests.utils.uploads import create_photo

    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    as_alice, as_bob = bearer(settings, alice.id), bearer(settings, bob.id)
    await mutate(client, FOLLOW, as_alice, userId=uid(bob))
    await mutate(client, FOLLOW, as_bob, userId=uid(alice))
    await drain(client)
    payload = await create_photo(client, as_bob, png(), caption="sunset")
    assert payload["errors"] == []
    assert await _feed(client, as_bob) == ["sunset"]  # before any task ran
    await drain(client)
    assert await _feed(client, as_alice) == ["sunset"]
    body = await call(client, NOTIFICATIONS, headers=as_alice)
    kinds = [e["node"]["kind"] for e in body["data"]["viewer"]["notifications"]["edges"]]
    assert "NEW_PHOTO" in kinds
