"""Walking a user's photos through GraphQL, as a mobile client scrolls."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import graphql

USER_PHOTOS = """
query ($username: String!, $first: Int, $after: String, $last: Int, $before: String) {
  user(username: $username) {
    photos(first: $first, after: $after, last: $last, before: $before) {
      edges { cursor node { id caption } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}
"""


async def photos_page(http: httpx.AsyncClient, username: str, **args: Any) -> dict[str, Any]:
    body = await graphql(http, USER_PHOTOS, {"username": username, **args})
    assert "errors" not in body, body
    page: dict[str, Any] = body["data"]["user"]["photos"]
    return page


def captions(page: dict[str, Any]) -> list[str]:
    return [edge["node"]["caption"] for edge in page["edges"]]


async def walk_forward(http: httpx.AsyncClient, username: str, size: int) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        page = await photos_page(http, username, first=size, after=after)
        seen += captions(page)
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]
