"""Follows, likes and comments through the real app, on both stores."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from resolvers.node_ids import to_global_id
from settings import Settings
from store import models, social_models
from store.port import Store
from tests.utils.accounts import bearer, call
from tests.utils.builders import make_photos, make_user
from tests.utils.draining import drain

FOLLOW = """mutation($i: FollowInput!) { follow(input: $i) {
  user { username followerCount viewerFollows } errors { code field } } }"""
UNFOLLOW = """mutation($i: FollowInput!) { unfollow(input: $i) {
  user { username followerCount viewerFollows } errors { code field } } }"""
LIKE = """mutation($i: LikeInput!) { likePhoto(input: $i) {
  photo { likeCount viewerHasLiked } errors { code field } } }"""
UNLIKE = """mutation($i: LikeInput!) { unlikePhoto(input: $i) {
  photo { likeCount viewerHasLiked } errors { code field } } }"""
ADD_COMMENT = """mutation($i: AddCommentInput!) { addComment(input: $i) {
  comment { id text author { username } } errors { code field } } }"""
DELETE_COMMENT = """mutation($i: DeleteCommentInput!) { deleteComment(input: $i) {
  deletedCommentId errors { code field } } }"""


def uid(user: models.User) -> str:
    return to_global_id("User", user.key)


def pid(photo: models.Photo) -> str:
    return to_global_id("Photo", photo.key)


async def mutate(
    http: httpx.AsyncClient, query: str, headers: dict[str, str], **input: Any
) -> dict[str, Any]:
    body = await call(http, query, {"i": input}, headers)
    assert "errors" not in body, body
    payload: dict[str, Any] = next(iter(body["data"].values()))
    return payload


@pytest.fixture
async def people(store: Store) -> dict[str, models.User]:
    return {name: await make_user(store, name) for name in ("alice", "bob", "carol")}


COUNTS = """query($id: ID!) { node(id: $id) { ... on User { followerCount followingCount
  following(first: 5) { edges { node { username } } } } } }"""


@pytest.mark.slow  # waits seconds for batched background tasks
async def test_follow_is_idempotent_and_counted(
    client: httpx.AsyncClient, settings: Settings, people: dict[str, models.User]
) -> None:
    alice = bearer(settings, people["alice"].id)
    bob_id = uid(people["bob"])
    for _ in range(2):
        payload = await mutate(client, FOLLOW, alice, userId=bob_id)
        assert payload["errors"] == []
        assert payload["user"]["viewerFollows"] is True
    # Counts show a follow once its fold task has run (a time bucket later).
    await drain(client)
    body = await call(client, COUNTS, {"id": uid(people["alice"])})
    assert body["data"]["node"]["followingCount"] == 1
    assert body["data"]["node"]["following"]["edges"] == [{"node": {"username": "bob"}}]
    body = await call(client, COUNTS, {"id": bob_id})
    assert body["data"]["node"]["followerCount"] == 1
    for _ in range(2):
        payload = await mutate(client, UNFOLLOW, alice, userId=bob_id)
        assert payload["user"]["viewerFollows"] is False
    await drain(client)
    body = await call(client, COUNTS, {"id": bob_id})
    assert body["data"]["node"]["followerCount"] == 0


@pytest.mark.slow  # waits seconds for batched background tasks
async def test_followers_list_newest_first(
    client: httpx.AsyncClient, settings: Settings, people: dict[str, models.User]
) -> None:
    for name in ("alice", "carol"):
        await mutate(client, FOLLOW, bearer(settings, people[name].id), userId=uid(people["bob"]))
        await drain(client)  # the followee's half is written by its fan-in task
    body = await call(
        client,
        '{ user(username: "bob") { followerCount followers(first: 10) {'
        " edges { node { username } } } } }",
    )
    user = body["data"]["user"]
    assert user["followerCount"] == 2
    assert [e["node"]["username"] for e in user["followers"]["edges"]] == ["carol", "alice"]


async def test_bad_follows_are_typed_errors(
    client: httpx.AsyncClient, settings: Settings, people: dict[str, models.User]
) -> None:
    alice = bearer(settings, people["alice"].id)
    itself = await mutate(client, FOLLOW, alice, userId=uid(people["alice"]))
    assert itself["errors"] == [{"code": "INVALID_INPUT", "field": "userId"}]
    ghost = to_global_id("User", models.user_key("ghost"))
    missing = await mutate(client, FOLLOW, alice, userId=ghost)
    assert missing["errors"] == [{"code": "NOT_FOUND", "field": "userId"}]
    photo_id = to_global_id("Photo", models.photo_key("x", "y"))
    body = await call(client, FOLLOW, {"i": {"userId": photo_id}}, alice)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await call(client, FOLLOW, {"i": {"userId": uid(people["bob"])}})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.slow  # waits seconds for batched background tasks
async def test_likes_once_per_user_and_counted_under_concurrency(
    client: httpx.AsyncClient, settings: Settings, store: Store, people: dict[str, models.User]
) -> None:
    [photo] = await make_photos(store, people["alice"], 1)
    fans = [await make_user(store, f"fan{n}") for n in range(6)]
    results = await asyncio.gather(
        *(
            mutate(client, LIKE, bearer(settings, fan.id), photoId=pid(photo))
            for fan in fans
            for _ in range(2)
        )
    )
    assert all(r["errors"] == [] for r in results)
    await drain(client)  # the count shows the likes once their fold task has run
    body = await call(
        client,
        "query($id: ID!) { node(id: $id) { ... on Photo { likeCount viewerHasLiked } } }",
        {"id": pid(photo)},
        bearer(settings, fans[0].id),
    )
    assert body["data"]["node"] == {"likeCount": 6, "viewerHasLiked": True}
    unliked = await mutate(client, UNLIKE, bearer(settings, fans[0].id), photoId=pid(photo))
    assert unliked["photo"] == {"likeCount": 6, "viewerHasLiked": False}  # not folded yet
    await drain(client)
    body = await call(
        client,
        "query($id: ID!) { node(id: $id) { ... on Photo { likeCount } } }",
        {"id": pid(photo)},
    )
    assert body["data"]["node"] == {"likeCount": 5}


async def test_liking_a_deleted_photo(
    client: httpx.AsyncClient, settings: Settings, store: Store, people: dict[str, models.User]
) -> None:
    [photo] = await make_photos(store, people["alice"], 1)
    await store.delete_many([photo.key])
    payload = await mutate(client, LIKE, bearer(settings, people["bob"].id), photoId=pid(photo))
    assert payload == {"photo": None, "errors": [{"code": "NOT_FOUND", "field": "photoId"}]}


async def test_comments(
    client: httpx.AsyncClient, settings: Settings, store: Store, people: dict[str, models.User]
) -> None:
    [photo] = await make_photos(store, people["alice"], 1)
    bob, carol = bearer(settings, people["bob"].id), bearer(settings, people["carol"].id)
    first = await mutate(client, ADD_COMMENT, bob, photoId=pid(photo), text="  nice!\nreally ")
    assert first["comment"]["text"] == "nice!\nreally"
    second = await mutate(client, ADD_COMMENT, carol, photoId=pid(photo), text="wow")
    await drain(client)  # for the count; the thread lists both at once
    listing = await call(
        client,
        """query($id: ID!) { node(id: $id) { ... on Photo {
        commentCount comments(first: 10) { edges { node { text author { username } } } } } } }""",
        {"id": pid(photo)},
    )
    node = listing["data"]["node"]
    assert node["commentCount"] == 2
    assert [e["node"]["author"]["username"] for e in node["comments"]["edges"]] == ["bob", "carol"]
    refused = await mutate(client, DELETE_COMMENT, carol, commentId=first["comment"]["id"])
    assert refused["errors"] == [{"code": "NOT_ALLOWED", "field": "commentId"}]
    by_owner = await mutate(
        client,
        DELETE_COMMENT,
        bearer(settings, people["alice"].id),
        commentId=first["comment"]["id"],
    )
    assert by_owner == {"deletedCommentId": first["comment"]["id"], "errors": []}
    by_author = await mutate(client, DELETE_COMMENT, carol, commentId=second["comment"]["id"])
    assert by_author["errors"] == []
    again = await mutate(client, DELETE_COMMENT, carol, commentId=second["comment"]["id"])
    assert again["errors"] == [{"code": "NOT_FOUND", "field": "commentId"}]


@pytest.mark.parametrize("text", ["", "   ", "x" * 1001, "bell\x07"])
async def test_bad_comments_change_nothing(
    client: httpx.AsyncClient,
    settings: Settings,
    store: Store,
    people: dict[str, models.User],
    text: str,
) -> None:
    [photo] = await make_photos(store, people["alice"], 1)
    payload = await mutate(
        client, ADD_COMMENT, bearer(settings, people["bob"].id), photoId=pid(photo), text=text
    )
    assert payload == {"comment": None, "errors": [{"code": "INVALID_INPUT", "field": "text"}]}


async def test_feed_is_viewer_only_and_hides_unfollowed_and_deleted(
    client: httpx.AsyncClient, settings: Settings, store: Store, people: dict[str, models.User]
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    bob_photos = await make_photos(store, bob, 3)
    carol_photos = await make_photos(store, carol, 2, start=10)
    await mutate(client, FOLLOW, bearer(settings, alice.id), userId=uid(bob))
    await store.put_many(
        [social_models.feed_item(alice.id, p.key, p.sort_key) for p in bob_photos + carol_photos]
    )
    await store.delete_many([bob_photos[0].key])
    query = "{ viewer { feed(first: 10) { edges { node { caption } } } } }"
    body = await call(client, query, headers=bearer(settings, alice.id))
    captions = [e["node"]["caption"] for e in body["data"]["viewer"]["feed"]["edges"]]
    assert captions == [p.caption for p in bob_photos[1:]]
    # Only Viewer has a feed: no one can ask for another user's.
    other = await call(
        client,
        "query($id: ID!) { node(id: $id) { ... on User { feed { edges { cursor } } } } }",
        {"id": uid(alice)},
        bearer(settings, bob.id),
    )
    assert other["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


@pytest.mark.parametrize("size", [1, 10, 50])
async def test_a_feed_page_with_likes_counts_and_owners_costs_three_round_trips_then_none(
    client: httpx.AsyncClient,
    settings: Settings,
    store: Store,
    people: dict[str, models.User],
    size: int,
) -> None:
    alice = people["alice"]
    photos: list[models.Photo] = []
    for name in ("bob", "carol"):
        await mutate(client, FOLLOW, bearer(settings, alice.id), userId=uid(people[name]))
        photos += await make_photos(store, people[name], 30, start=len(photos))
    await store.put_many([social_models.feed_item(alice.id, p.key, p.sort_key) for p in photos])
    await drain(client)  # the follows' background tasks use the same store counter
    query = """query($n: Int) { viewer { feed(first: $n) {
        edges { cursor node { id caption likeCount commentCount viewerHasLiked
                              owner { username displayName } } }
        pageInfo { hasNextPage endCursor } } } }"""
    before = store.round_trips
    body = await call(client, query, {"n": size}, bearer(settings, alice.id))
    assert len(body["data"]["viewer"]["feed"]["edges"]) == size
    assert store.round_trips - before <= 3
    # Warm, the page and everything on it, the viewer's follow edges too, are cached.
    before = store.round_trips
    again = await call(client, query, {"n": size}, bearer(settings, alice.id))
    assert again == body
    assert store.round_trips == before


async def test_mark_read_checks_its_idempotency_key_like_every_mutation(
    client: httpx.AsyncClient, settings: Settings, people: dict[str, models.User]
) -> None:
    query = """mutation($i: MarkNotificationsReadInput!) { markNotificationsRead(input: $i) {
      unreadNotificationCount } }"""
    as_alice = bearer(settings, people["alice"].id)
    body = await call(client, query, {"i": {"idempotencyKey": "k" * 129}}, as_alice)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await call(client, query, {"i": {"idempotencyKey": "k1"}}, as_alice)
    assert body["data"]["markNotificationsRead"] == {"unreadNotificationCount": 0}
