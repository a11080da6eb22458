"""What a page costs the event loop, guarded by counts: fields whose values the
request has loaded already (a user's own photos' owner, a feed page's prefetched
owners, counts and likes) answer at once, without a coroutine and a Task each."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx

from resolvers.node_ids import to_global_id
from settings import Settings
from store import social_models
from store.port import Store
from tests.conftest import graphql
from tests.utils.accounts import bearer, call
from tests.utils.builders import make_photos, make_user

PAGE = 20
# The request's own Tasks (the store's round trips on Datastore, a loader batch)
# whatever the page size: 22 and 100 when every owner and count was a coroutine.
TASKS_PER_REQUEST = 4
USER_PAGE = """query($id: ID!, $n: Int) { node(id: $id) { ... on User {
  photos(first: $n) { edges { cursor node { id caption width height owner { id username } } }
    pageInfo { hasNextPage endCursor } } } } }"""
HOME = """query($n: Int) { viewer { feed(first: $n) {
  edges { node { id likeCount commentCount viewerHasLiked owner { username } } } } } }"""


@contextmanager
def counting_tasks() -> Iterator[list[int]]:
    loop = asyncio.get_running_loop()
    previous = loop.get_task_factory()
    created = [0]

    def factory(
        loop: asyncio.AbstractEventLoop,
        coro: Coroutine[Any, Any, Any] | Generator[Any, None, Any],
        **kwargs: Any,
    ) -> asyncio.Future[Any]:
        created[0] += 1
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(factory)
    try:
        yield created
    finally:
        loop.set_task_factory(previous)


async def test_a_users_page_makes_no_task_per_photo(
    client: httpx.AsyncClient, store: Store
) -> None:
    user = await make_user(store, "alice")
    await make_photos(store, user, PAGE + 5)
    variables = {"id": to_global_id("User", user.key), "n": PAGE}
    await graphql(client, USER_PAGE, variables)  # caches warm
    with counting_tasks() as created:
        body = await graphql(client, USER_PAGE, variables)
    assert len(body["data"]["node"]["photos"]["edges"]) == PAGE
    assert created[0] <= TASKS_PER_REQUEST


async def test_a_home_feed_page_makes_no_task_per_photo(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    photos = await make_photos(store, bob, PAGE + 5)
    now = datetime.now(UTC)
    await store.put_many(
        [social_models.edge_entity(social_models.following_key(alice.id, bob.id), bob.id, now)]
        + [social_models.feed_item(alice.id, p.key, p.sort_key) for p in photos]
    )
    await call(client, HOME, {"n": PAGE}, bearer(settings, alice.id))
    with counting_tasks() as created:
        body = await call(client, HOME, {"n": PAGE}, bearer(settings, alice.id))
    edges = body["data"]["viewer"]["feed"]["edges"]
    assert len(edges) == PAGE
    assert all(edge["node"]["owner"]["username"] == "bob" for edge in edges)
    assert created[0] <= TASKS_PER_REQUEST
