"""The real app under concurrent clients, on both stores: mixed writes and reads with
the embedded queue running and push devices registered, no errors and exact counts;
and, on the embedded file, a file locked by another process answering a coded,
retryable error."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from app import create_app
from push.outbox import OutboxPush
from resolvers.node_ids import to_global_id
from settings import Settings
from store import models
from store.port import Store
from store.sqlite import SQLiteStore
from store.sqlite_db import SQLiteDatabase
from tests.utils.accounts import bearer, call, create_profile
from tests.utils.builders import BASE_TIME
from tests.utils.clients import app_client, serving
from tests.utils.devices import device_token, register
from tests.utils.draining import app_of, drain

CLIENTS = 20
ROUNDS = 3
FOLLOW = """mutation($i: FollowInput!) { follow(input: $i) { errors { code } } }"""
LIKE = """mutation($i: LikeInput!) { likePhoto(input: $i) { errors { code } } }"""
COMMENT = """mutation($i: AddCommentInput!) { addComment(input: $i) { errors { code } } }"""
CAPTION = """mutation($i: UpdateCaptionInput!) { updateCaption(input: $i) { errors { code } } }"""
PHOTO = """query($id: ID!) { node(id: $id) { ... on Photo { caption likeCount commentCount } } }"""
USER = """query($id: ID!) { node(id: $id) { ... on User { followerCount followingCount } } }"""
FEED = "{ viewer { feed(first: 5) { edges { node { id } } } } }"
UPDATE_PROFILE = """mutation($i: UpdateProfileInput!) { updateProfile(input: $i) {
  errors { code } } }"""


@pytest.fixture
async def http(store: Store, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real app over each store (SQLite, and Datastore's emulator), with the
    embedded queue and the push outbox running."""
    async with app_client(settings, store) as client:
        yield client


def user_id(n: int) -> str:
    return f"user-{n:02d}"


def photo_id(n: int) -> str:
    return to_global_id(models.PHOTO, models.photo_key(user_id(n), "p"))


async def ok(http: httpx.AsyncClient, query: str, headers: dict[str, str], **input: Any) -> None:
    body = await call(http, query, {"i": input}, headers)
    assert "errors" not in body, body
    [payload] = body["data"].values()
    assert payload["errors"] == [], payload


async def read(http: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    body = await call(http, query, variables)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def test_twenty_clients_of_mixed_writes_get_no_errors_and_exact_counts(
    http: httpx.AsyncClient, settings: Settings
) -> None:
    store = app_of(http).state.store
    people = [bearer(settings, user_id(n)) for n in range(CLIENTS)]

    async def sign_up(n: int) -> None:
        payload = await create_profile(http, people[n], username=f"u{n:02d}", displayName="U")
        assert payload["errors"] == []
        await register(http, people[n], device_token(f"phone{n}"))
        photo = models.Photo(user_id(n), "p", "first", BASE_TIME + timedelta(minutes=n))
        await store.put_many([models.photo_to_entity(photo)])

    await asyncio.gather(*(sign_up(n) for n in range(CLIENTS)))

    async def client(n: int) -> None:
        me = people[n]
        for r in range(ROUNDS):
            other = (n + r + 1) % CLIENTS
            await ok(
                http, FOLLOW, me, userId=to_global_id(models.USER, models.user_key(user_id(other)))
            )
            await ok(http, LIKE, me, photoId=photo_id(other))
            await ok(http, COMMENT, me, photoId=photo_id(other), text=f"from {n}")
            await ok(http, CAPTION, me, photoId=photo_id(n), caption=f"caption {r}")
            await read(http, PHOTO, id=photo_id(other))
            body = await call(http, FEED, headers=me)
            assert "errors" not in body, body

    await asyncio.gather(*(client(n) for n in range(CLIENTS)))
    await drain(http, within=60)

    for n in range(CLIENTS):
        photo = (await read(http, PHOTO, id=photo_id(n)))["node"]
        assert photo == {
            "caption": f"caption {ROUNDS - 1}",
            "likeCount": ROUNDS,
            "commentCount": ROUNDS,
        }
        user = await read(http, USER, id=to_global_id(models.USER, models.user_key(user_id(n))))
        assert user["node"] == {"followerCount": ROUNDS, "followingCount": ROUNDS}
    outbox = app_of(http).state.push
    assert isinstance(outbox, OutboxPush)
    pushes = await outbox.recent(limit=10_000)
    assert pushes
    assert {push.status for push in pushes} == {"delivered"}


async def test_a_file_locked_by_another_process_answers_unavailable(
    settings: Settings, tmp_path: Path
) -> None:
    store_file = tmp_path / "store.db"
    database = SQLiteDatabase(store_file, busy_timeout_ms=20)
    # The queue and the outbox on a file of their own, so only the store's is locked.
    app = create_app(
        replace(settings, sqlite_path=tmp_path / "tasks.db"), store=SQLiteStore(database)
    )
    me = bearer(settings, user_id(1))
    async with serving(app, "http://t") as http:
        await create_profile(http, me, username="u01", displayName="Before")
        other = sqlite3.connect(store_file, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            busy = await http.post(
                "/graphql",
                json={"query": UPDATE_PROFILE, "variables": {"i": {"displayName": "During"}}},
                headers=me,
            )
            viewer = await call(http, "{ viewer { user { displayName } } }", headers=me)
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert (busy.status_code, busy.headers["retry-after"]) == (503, "1")
        [error] = busy.json()["errors"]
        assert error["extensions"] == {"code": "UNAVAILABLE", "retryAfterSeconds": 1}
        assert viewer == {"data": {"viewer": {"user": {"displayName": "Before"}}}}  # reads go on
        await ok(http, UPDATE_PROFILE, me, displayName="After")
        viewer = await call(http, "{ viewer { user { displayName } } }", headers=me)
        assert viewer == {"data": {"viewer": {"user": {"displayName": "After"}}}}
