"""The owner of a hot photo keeps acting while fans pile on: the owner's own
mutations read the owner's entity group, so on a store that validates per group
(the Datastore emulator, a legacy-mode database) every background write into it
can make one of them retry, and enough of them in a row answer UNAVAILABLE. So
what the fans' actions set off writes into the owner's group only the fan-in's
one batched commit a time bucket (tasks/fan_in.py): a push keeps its receipt and
the user's PushStatus in roots of their own (tasks/push_delivery.py), and a
mutation's outbox records, which its relay deletes a moment after the answer,
are a root of their own too (resolvers/mutations.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from push.outbox import OutboxPush
from settings import Settings
from store import activity_models
from store.port import Store
from tests.test_hot_groups import WriteRecorder
from tests.test_social import ADD_COMMENT, FOLLOW, LIKE, mutate, pid, uid
from tests.test_social_background import NOTIFICATIONS
from tests.utils.accounts import bearer, call
from tests.utils.builders import make_photos, make_user
from tests.utils.clients import app_client
from tests.utils.devices import device_token, register
from tests.utils.draining import app_of, drain, settle_relays

FANS = 24
OWNER_ROUNDS = 6
CAPTION = """mutation($i: UpdateCaptionInput!) { updateCaption(input: $i) {
  errors { code } } }"""
COUNTS = """query($p: ID!, $u: ID!) {
  photo: node(id: $p) { ... on Photo { likeCount commentCount } }
  user: node(id: $u) { ... on User { followerCount followingCount } } }"""


async def _pushes_delivered(http: httpx.AsyncClient) -> list[str]:
    outbox = app_of(http).state.push
    assert isinstance(outbox, OutboxPush)
    return [push.status for push in await outbox.recent(limit=10_000)]


async def test_pushes_and_relays_write_nothing_into_a_users_group(
    store: Store, settings: Settings
) -> None:
    """Each fan's group takes its two actions' commits and nothing else (the relays
    delete their outbox records elsewhere); the owner's, with a phone to push
    to, takes the fan-in's commits and nothing else (no push receipt, no PushStatus)."""
    owner = await make_user(store, "owner")
    [photo] = await make_photos(store, owner, 1)
    fans = [await make_user(store, f"fan{n}") for n in range(4)]
    recorder = WriteRecorder(store)
    async with app_client(settings, recorder) as http:
        await register(http, bearer(settings, owner.id), device_token("owner-phone"))
        registered = len(recorder.writes)
        await asyncio.gather(
            *(
                mutate(http, query, bearer(settings, fan.id), photoId=pid(photo), **more)
                for fan in fans
                for query, more in ((LIKE, {}), (ADD_COMMENT, {"text": "nice"}))
            )
        )
        await settle_relays(http)
        await drain(http)
        delivered = await _pushes_delivered(http)
    assert set(delivered) == {"delivered"}  # some, and every one delivered
    writes = recorder.writes[registered:]
    for fan in fans:
        assert len([groups for groups in writes if fan.id in groups]) == 2
    fan_ins = [r for r in recorder.recorded if activity_models.FAN_IN_MARK in r.kinds_written]
    assert fan_ins
    assert len([groups for groups in writes if owner.id in groups]) == len(fan_ins)


async def _attempt(
    http: httpx.AsyncClient, query: str, headers: dict[str, str], errors: list[str], **input: Any
) -> None:
    """One mutation; whatever is not a clean answer goes into `errors`."""
    response = await http.post(
        "/graphql", json={"query": query, "variables": {"i": input}}, headers=headers
    )
    body = response.json()
    payload = next(iter((body.get("data") or {}).values()), None) or {}
    if response.status_code != 200 or "errors" in body or payload.get("errors"):
        errors.append(f"{response.status_code} {body}")


@pytest.mark.slow  # a hundred-odd mutations and their fan-ins, pushes and folds
async def test_a_hot_photos_owner_keeps_acting_while_fans_pile_on(
    store: Store, settings: Settings
) -> None:
    owner = await make_user(store, "owner")
    [photo] = await make_photos(store, owner, 1)
    fans = [await make_user(store, f"fan{n}") for n in range(FANS)]
    errors: list[str] = []
    as_owner = bearer(settings, owner.id)
    async with app_client(settings, store) as http:
        await register(http, as_owner, device_token("owner-phone"))

        async def fan(n: int) -> None:
            me = bearer(settings, fans[n].id)
            await _attempt(http, LIKE, me, errors, photoId=pid(photo))
            await _attempt(http, ADD_COMMENT, me, errors, photoId=pid(photo), text=f"from {n}")
            await _attempt(http, FOLLOW, me, errors, userId=uid(owner))

        async def the_owner() -> None:
            # Each of these reads the owner's group in its transaction.
            for r in range(OWNER_ROUNDS):
                await _attempt(http, CAPTION, as_owner, errors, photoId=pid(photo), caption=f"{r}")
                await _attempt(http, FOLLOW, as_owner, errors, userId=uid(fans[r]))
                await _attempt(http, ADD_COMMENT, as_owner, errors, photoId=pid(photo), text="ty")

        await asyncio.gather(the_owner(), *(fan(n) for n in range(FANS)))
        await drain(http, within=60)
        counts = await call(http, COUNTS, {"p": pid(photo), "u": uid(owner)})
        notices = await call(http, NOTIFICATIONS, headers=as_owner)
        delivered = await _pushes_delivered(http)
    assert errors == []
    assert counts["data"] == {
        "photo": {"likeCount": FANS, "commentCount": FANS + OWNER_ROUNDS},
        "user": {"followerCount": FANS, "followingCount": OWNER_ROUNDS},
    }
    edges = notices["data"]["viewer"]["notifications"]["edges"]
    assert {e["node"]["kind"]: e["node"]["actorCount"] for e in edges} == {
        "LIKE": FANS,
        "COMMENT": FANS,
        "FOLLOW": FANS,
    }
    assert set(delivered) == {"delivered"}  # some, and every one delivered
