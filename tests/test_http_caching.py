"""Cacheable GETs: Cache-Control from what the query reads, Vary, ETag and 304."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

from resolvers.node_ids import to_global_id
from settings import Settings
from store.port import Store
from tests.utils.accounts import bearer, create_profile
from tests.utils.builders import make_photos, make_user

PUBLIC = "public, max-age=30"
PRIVATE = "private, no-store"
USER_PHOTOS = """query UserPhotos { user(username: "alice") {
  username photos(first: 2) { edges { node { id caption } } } } }"""
PHOTO_COMMENTS = """query($id: ID!) { node(id: $id) { ... on Photo {
  caption comments(first: 5) { edges { node { id } } } } } }"""
EVERYONE = "{ photos(first: 2) { edges { node { id } } } __typename }"
VIEWER = "{ viewer { id } }"
VIEWER_IN_A_FRAGMENT = """query { ...Parts }
fragment Parts on Query { photos(first: 1) { edges { cursor } } ... on Query { viewer { id } } }"""


async def get(
    http: httpx.AsyncClient, query: str, headers: dict[str, str] | None = None, **variables: str
) -> httpx.Response:
    params = {"query": query}
    if variables:
        params["variables"] = json.dumps(variables)
    return await http.get("/graphql", params=params, headers=headers or {})


@pytest.fixture
async def photo_id(store: Store) -> str:
    [photo, *_] = await make_photos(store, await make_user(store, "alice"), 2)
    return to_global_id("Photo", photo.key)


async def test_public_reads_over_get_may_be_cached(
    client: httpx.AsyncClient, photo_id: str
) -> None:
    for response in (
        await get(client, USER_PHOTOS),
        await get(client, PHOTO_COMMENTS, id=photo_id),
        await get(client, EVERYONE),
    ):
        assert response.status_code == 200
        assert "errors" not in response.json(), response.json()
        assert response.headers["cache-control"] == PUBLIC
        assert response.headers["vary"] == "Authorization, Accept"


@pytest.mark.usefixtures("photo_id")
async def test_an_etag_of_the_body_answers_304(client: httpx.AsyncClient) -> None:
    first = await get(client, USER_PHOTOS)
    etag = first.headers["etag"]
    assert etag == '"' + hashlib.sha256(first.content).hexdigest()[:32] + '"'
    assert (await get(client, USER_PHOTOS)).headers["etag"] == etag  # strong: same bytes

    unchanged = await get(client, USER_PHOTOS, {"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    assert unchanged.headers["cache-control"] == PUBLIC
    assert unchanged.headers["vary"] == "Authorization, Accept"
    weak_or_listed = await get(client, USER_PHOTOS, {"If-None-Match": f'"other", W/{etag}'})
    assert weak_or_listed.status_code == 304

    changed = await get(client, USER_PHOTOS, {"If-None-Match": '"something-else"'})
    assert changed.status_code == 200
    assert changed.content == first.content


async def test_what_is_about_the_viewer_or_signed_in_is_private(
    client: httpx.AsyncClient, settings: Settings, photo_id: str
) -> None:
    headers = bearer(settings, "u-bob")
    await create_profile(client, headers, username="bob", displayName="Bob")
    signed_in = await get(client, USER_PHOTOS, headers)
    assert signed_in.status_code == 200
    assert signed_in.headers["cache-control"] == PRIVATE
    assert signed_in.headers["vary"] == "Authorization, Accept"
    assert (await get(client, VIEWER, headers)).headers["cache-control"] == PRIVATE
    anonymous_viewer = await get(client, VIEWER)
    assert anonymous_viewer.headers["cache-control"] == PRIVATE
    hidden = await get(client, VIEWER_IN_A_FRAGMENT)
    assert hidden.headers["cache-control"] == PRIVATE


async def test_answers_with_errors_are_not_kept(client: httpx.AsyncClient) -> None:
    missing = await get(client, '{ node(id: "bm9wZQ") { id } }')
    assert missing.json()["errors"]
    assert missing.headers["cache-control"] == PRIVATE
    invalid = await get(client, "{ notAField }")
    assert invalid.headers["cache-control"] == PRIVATE


async def test_posts_and_refusals_are_no_store(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": EVERYONE})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "etag" not in response.headers
    mutation = await client.get("/graphql", params={"query": "mutation { __typename }"})
    assert mutation.status_code == 405
    assert mutation.headers["cache-control"] == PRIVATE
    assert "etag" not in mutation.headers


async def test_a_persisted_query_by_hash_over_get_is_cacheable(client: httpx.AsyncClient) -> None:
    extensions = {
        "persistedQuery": {
            "version": 1,
            "sha256Hash": hashlib.sha256(EVERYONE.encode()).hexdigest(),
        }
    }
    await client.post("/graphql", json={"query": EVERYONE, "extensions": extensions})
    response = await client.get("/graphql", params={"extensions": json.dumps(extensions)})
    assert response.json()["data"]["__typename"] == "Query"
    assert response.headers["cache-control"] == PUBLIC
    assert "etag" in response.headers
