"""Automatic persisted queries (Apollo's protocol) over POST and GET, through the
real app, on both stores: what a client sees, what is stored, and what it costs."""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import replace
from typing import Any

import httpx
import pytest

from settings import CacheSettings, PersistedQuerySettings, Settings
from store.keys import Key
from store.port import Store
from tests.utils.builders import make_photos, make_user
from tests.utils.clients import app_client

USER_PHOTOS = """query UserPhotos($name: String!) { user(username: $name) {
  username photos(first: 2) { edges { node { caption } } } } }"""
LIKE = "mutation Like($id: ID!) { likePhoto(input: {photoId: $id}) { errors { code } } }"


def sha(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def persisted(document: str, *, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha(document)}}


async def post(http: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await http.post("/graphql", json=body)


async def get(http: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    params = {
        name: value if isinstance(value, str) else json.dumps(value) for name, value in body.items()
    }
    return await http.get("/graphql", params=params, headers={"Accept": "application/json"})


SEND = {"post": post, "get": get}


def code_of(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Uncached reads (TIMELINE_CACHE=off): these tests count what persisted queries
    alone cost the store, the same for every request of one document."""
    return replace(settings, cache=CacheSettings(backend="off"))


@pytest.fixture
async def alice(store: Store) -> None:
    await make_photos(store, await make_user(store, "alice"), 3)


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize("method", ["post", "get"])
async def test_a_hash_the_server_lacks_is_asked_for_then_kept(
    client: httpx.AsyncClient, store: Store, method: str
) -> None:
    send = SEND[method]
    variables = {"name": "alice"}
    hash_only = {"variables": variables, "extensions": persisted(USER_PHOTOS)}

    missing = await send(client, hash_only)
    # As Apollo Server answers it: 200, so that every client reads the body and resends.
    assert missing.status_code == 200
    assert missing.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert code_of(missing) == "PERSISTED_QUERY_NOT_FOUND"
    kept_by_nobody = "private, no-cache, must-revalidate" if method == "get" else "no-store"
    assert missing.headers["cache-control"] == kept_by_nobody

    registered = await send(client, {"query": USER_PHOTOS, **hash_only})
    assert registered.status_code == 200
    expected = registered.json()
    assert expected["data"]["user"]["username"] == "alice"

    stored = (await store.get_many([Key.of("PersistedQuery", sha(USER_PHOTOS))]))[0]
    assert stored is not None
    assert stored.properties["document"] == USER_PHOTOS

    again = await send(client, hash_only)
    assert again.status_code == 200
    assert again.json() == expected


async def test_every_instance_finds_a_document_another_one_stored(
    store: Store, settings: Settings
) -> None:
    await make_photos(store, await make_user(store, "alice"), 1)
    body = {"variables": {"name": "alice"}, "extensions": persisted(USER_PHOTOS)}
    async with app_client(settings, store) as first:
        assert (await post(first, {"query": USER_PHOTOS, **body})).status_code == 200
    async with app_client(settings, store) as second:  # an empty in-process cache
        before = store.round_trips
        answer = await post(second, body)
        assert answer.json()["data"]["user"]["username"] == "alice"
        found_in_store = store.round_trips - before
        before = store.round_trips
        await post(second, body)
        found_in_memory = store.round_trips - before
    # The first lookup reads the store once more than the next, served from the LRU.
    assert found_in_store == found_in_memory + 1


@pytest.mark.usefixtures("alice")
async def test_registering_costs_one_write_and_a_known_hash_no_read(
    client: httpx.AsyncClient, store: Store
) -> None:
    body = {"variables": {"name": "alice"}, "extensions": persisted(USER_PHOTOS)}
    before = store.round_trips
    await post(client, {"query": USER_PHOTOS, "variables": body["variables"]})
    plain = store.round_trips - before

    before = store.round_trips
    await post(client, {"query": USER_PHOTOS, **body})
    assert store.round_trips - before == plain + 1  # the put
    before = store.round_trips
    await post(client, {"query": USER_PHOTOS, **body})  # already kept: no second put
    assert store.round_trips - before == plain
    before = store.round_trips
    await post(client, body)
    assert store.round_trips - before == plain


@pytest.mark.parametrize("method", ["post", "get"])
async def test_a_hash_that_is_not_the_documents_is_refused(
    client: httpx.AsyncClient, store: Store, method: str
) -> None:
    body = {"query": "{ __typename }", "extensions": persisted("{ photos { edges { cursor } } }")}
    response = await SEND[method](client, body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "provided sha does not match query"
    assert code_of(response) == "BAD_REQUEST"
    stored = await store.get_many([Key.of("PersistedQuery", sha("{ __typename }"))])
    assert stored == [None]


@pytest.mark.parametrize(
    "extension",
    [
        {"persistedQuery": {"version": 2, "sha256Hash": sha("{ __typename }")}},
        {"persistedQuery": {"version": 1, "sha256Hash": "not-a-hash"}},
        {"persistedQuery": {"version": 1, "sha256Hash": sha("{ __typename }").upper()}},
        {"persistedQuery": "yes"},
    ],
)
async def test_a_malformed_persisted_query_extension_is_a_bad_request(
    client: httpx.AsyncClient, extension: dict[str, Any]
) -> None:
    response = await post(client, {"extensions": extension})
    assert response.status_code == 400
    assert code_of(response) == "BAD_REQUEST"
    assert "persisted" in response.json()["errors"][0]["message"].lower()


@pytest.mark.parametrize(
    "document",
    [
        "{ notAField }",  # fails validation
        "{ " + "photos { edges { node { owner { " * 4 + "id" + " } } } }" * 4 + " }",  # too deep
        "{ __typename",  # does not parse
    ],
)
async def test_only_documents_that_pass_the_checks_are_kept(
    client: httpx.AsyncClient, store: Store, document: str
) -> None:
    response = await post(client, {"query": document, "extensions": persisted(document)})
    assert response.json()["data"] is None
    assert await store.get_many([Key.of("PersistedQuery", sha(document))]) == [None]
    again = await post(client, {"extensions": persisted(document)})
    assert code_of(again) == "PERSISTED_QUERY_NOT_FOUND"


async def test_a_mutation_named_by_hash_over_get_is_refused(
    client: httpx.AsyncClient,
) -> None:
    variables = {"id": "UGhvdG86bm9uZQ"}
    registered = await post(
        client, {"query": LIKE, "variables": variables, "extensions": persisted(LIKE)}
    )
    assert registered.status_code == 200
    response = await get(client, {"variables": variables, "extensions": persisted(LIKE)})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert code_of(response) == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize("method", ["post", "get"])
async def test_with_apq_switched_off_clients_are_told_to_stop_hashing(
    store: Store, settings: Settings, method: str
) -> None:
    off = replace(settings, persisted_queries=PersistedQuerySettings(enabled=False))
    async with app_client(off, store) as http:
        for body in (
            {"extensions": persisted("{ __typename }")},
            {"query": "{ __typename }", "extensions": persisted("{ __typename }")},
        ):
            response = await SEND[method](http, body)
            assert response.status_code == 200
            assert response.json()["errors"][0]["message"] == "PersistedQueryNotSupported"
            assert code_of(response) == "PERSISTED_QUERY_NOT_SUPPORTED"
        plain = await SEND[method](http, {"query": "{ __typename }"})
        assert plain.json() == {"data": {"__typename": "Query"}}
    assert await store.get_many([Key.of("PersistedQuery", sha("{ __typename }"))]) == [None]


async def test_an_apq_get_with_accept_anything_is_a_query_not_the_ide(
    client: httpx.AsyncClient,
) -> None:
    """Apollo Client 3 sends `Accept: */*`; a hash-only GET has no `query` parameter."""
    await post(client, {"query": "{ __typename }", "extensions": persisted("{ __typename }")})
    response = await client.get(
        "/graphql",
        params={"extensions": json.dumps(persisted("{ __typename }"))},
        headers={"Accept": "*/*"},
    )
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_many_clients_registering_at_once_all_find_their_documents(
    client: httpx.AsyncClient, store: Store
) -> None:
    """Twenty clients teach the server four documents at the same moment (five each):
    the puts are idempotent, so every one of them is kept once and runs by hash."""
    documents = [f"query Q{n} {{ __typename a{n}: __typename }}" for n in range(4)]
    senders = [documents[n % 4] for n in range(20)]
    registered = await asyncio.gather(
        *(post(client, {"query": doc, "extensions": persisted(doc)}) for doc in senders)
    )
    assert {response.status_code for response in registered} == {200}
    stored = await store.get_many([Key.of("PersistedQuery", sha(doc)) for doc in documents])
    assert [entity.properties["document"] for entity in stored if entity] == documents
    by_hash = await asyncio.gather(*(post(client, {"extensions": persisted(d)}) for d in senders))
    assert all(response.json()["data"]["__typename"] == "Query" for response in by_hash)
