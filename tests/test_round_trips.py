"""Store round trips per request: the performance budget, guarded by counts."""

from __future__ import annotations

import httpx
import pytest

from resolvers.node_ids import to_global_id
from store.port import Store
from tests.conftest import graphql
from tests.utils.builders import make_photos, make_user

PAGE_SIZES = [1, 2, 10, 20, 37, 50]

ALL_PHOTOS = """query($n: Int) { photos(first: $n) {
  edges { cursor node { id caption createdAt owner { id username displayName } } }
  pageInfo { hasNextPage endCursor } } }"""
USER_NODE_PHOTOS = """query($id: ID!, $n: Int) { node(id: $id) { ... on User {
  photos(first: $n) { edges { node { id caption owner { username } } } } } } }"""


async def _round_trips(
    store: Store, http: httpx.AsyncClient, query: str, **variables: object
) -> int:
    before = store.round_trips
    body = await graphql(http, query, variables)
    assert "errors" not in body, body
    return store.round_trips - before


@pytest.fixture
async def three_owners(store: Store) -> list[str]:
    users = [await make_user(store, name) for name in ("alice", "bob", "carol")]
    for index, user in enumerate(users):
        await make_photos(store, user, 20, start=index)
    return [to_global_id("User", user.key) for user in users]


@pytest.mark.parametrize("size", PAGE_SIZES)
async def test_a_page_with_owners_costs_two_round_trips(
    client: httpx.AsyncClient, store: Store, three_owners: list[str], size: int
) -> None:
    assert await _round_trips(store, client, ALL_PHOTOS, n=size) <= 2


@pytest.mark.parametrize("size", PAGE_SIZES)
async def test_a_users_page_costs_two_round_trips(
    client: httpx.AsyncClient, store: Store, three_owners: list[str], size: int
) -> None:
    assert await _round_trips(store, client, USER_NODE_PHOTOS, id=three_owners[0], n=size) <= 2


async def test_nodes_batch_into_one_get(
    client: httpx.AsyncClient, store: Store, three_owners: list[str]
) -> None:
    query = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    assert await _round_trips(store, client, query, ids=three_owners) == 1
