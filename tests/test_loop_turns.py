"""Turns of the event loop a request waits for, on an otherwise idle loop over the
embedded store (whose quick reads and idle writes run on the loop's own thread, so
the count does not depend on threads): under load each turn is a pass over every
other ready request, so fewer turns is less waiting. Counted, never timed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import pytest

from settings import Settings
from store.sqlite import SQLiteStore
from tests.test_social import LIKE, pid, uid
from tests.utils.accounts import bearer, call
from tests.utils.builders import owner_and_fan
from tests.utils.clients import app_client

PROFILE = """query($id: ID!) { node(id: $id) { ... on User { username followerCount
  photos(first: 20) { edges { node { id caption likeCount commentCount viewerHasLiked
  owner { username } } } } } } }"""


@contextlib.asynccontextmanager
async def ticking() -> AsyncIterator[list[int]]:
    """A task that counts the loop's turns while the block runs."""
    turns = [0]

    async def tick() -> None:
        while True:
            await asyncio.sleep(0)
            turns[0] += 1

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0)
    try:
        yield turns
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker


async def turns_of(request: Awaitable[dict[str, Any]]) -> int:
    async with ticking() as turns:
        body = await request
    assert "errors" not in body, body
    return turns[0]


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
async def test_a_profile_page_and_a_like_wait_for_few_turns(
    store: SQLiteStore, settings: Settings
) -> None:
    owner, photos, fan = await owner_and_fan(store, 20)
    as_fan = bearer(settings, fan.id)
    async with app_client(settings, store) as http:
        await call(http, PROFILE, {"id": uid(owner)}, as_fan)  # plans, caches, connections
        await call(http, LIKE, {"i": {"photoId": pid(photos[0])}}, as_fan)
        # The fewest of three: a background job on the writer at the moment of a
        # commit sends it to the writer's thread, and the loop spins while it waits.
        profile = [await turns_of(call(http, PROFILE, {"id": uid(owner)}, as_fan)) for _ in "abc"]
        likes = [
            await turns_of(call(http, LIKE, {"i": {"photoId": pid(photo)}}, as_fan))
            for photo in photos[1:4]
        ]
    # The node by one get, not a DataLoader's batch and answer (7; it was 10); the
    # photos' counts and likes are one prefetch (resolvers/nodes.py, schema/compiled/).
    assert min(profile) <= 7
    # The check, the transaction and the answer without a DataLoader: the like
    # never waits for a turn of the loop (it was 9; resolvers/mutations.py).
    assert min(likes) == 0
