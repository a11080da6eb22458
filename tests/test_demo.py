"""Demo data: enough to page through, and idempotent."""

from __future__ import annotations

from typing import Any

import httpx

from auth.dev_tokens import key_path_in, mint_dev_token
from demo import DEMO_USERS, seed_demo_data
from settings import Settings
from store.port import Store
from tests.utils.paging import walk_forward


async def test_seeding_twice_writes_once(client: httpx.AsyncClient, store: Store) -> None:
    written = await seed_demo_data(store)
    assert written > 0
    assert await seed_demo_data(store) == 0
    assert len(DEMO_USERS) >= 3
    busiest = max(DEMO_USERS, key=lambda user: user[3])
    assert busiest[3] > 50
    walked = await walk_forward(client, busiest[1], 7)
    assert len(walked) == len(set(walked)) == busiest[3]


async def test_demo_users_follow_each_other_and_have_feeds(
    client: httpx.AsyncClient, store: Store, settings: Settings
) -> None:
    await seed_demo_data(store)
    token = mint_dev_token(key_path_in(settings.var_dir), "demo-alice")
    body = await graphql_as(
        client,
        # The oldest 50: alice's 60 photos are the newest, the others' are older.
        "{ viewer { user { followingCount followerCount } feed(last: 50) {"
        " edges { node { owner { username } } } } } }",
        token,
    )
    viewer = body["data"]["viewer"]
    assert (viewer["user"]["followingCount"], viewer["user"]["followerCount"]) == (2, 2)
    owners = {edge["node"]["owner"]["username"] for edge in viewer["feed"]["edges"]}
    assert owners == {"alice", "bob", "carol"}


async def graphql_as(http: httpx.AsyncClient, query: str, token: str) -> dict[str, Any]:
    response = await http.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body
