"""Every bad argument gets a GraphQL error with extensions.code, never a 500."""

from __future__ import annotations

import base64

import httpx
import pytest

from resolvers.cursors import CursorCodec
from resolvers.node_ids import to_global_id
from store.keys import Key
from store.port import Position, Store
from tests.conftest import graphql
from tests.utils.builders import make_photos, make_user
from tests.utils.paging import USER_PHOTOS, photos_page


async def _error_code(http: httpx.AsyncClient, query: str, **variables: object) -> str:
    body = await graphql(http, query, variables)
    assert body.get("errors"), body
    [error] = body["errors"]
    assert "Traceback" not in error["message"]
    code: str = error["extensions"]["code"]
    return code


async def _photos_error(http: httpx.AsyncClient, **args: object) -> str:
    return await _error_code(http, USER_PHOTOS, username="alice", **args)


@pytest.fixture
async def alice_cursor(client: httpx.AsyncClient, store: Store) -> str:
    alice = await make_user(store, "alice")
    await make_photos(store, alice, 3)
    page = await photos_page(client, "alice", first=1)
    cursor: str = page["pageInfo"]["endCursor"]
    return cursor


@pytest.mark.parametrize(
    "cursor",
    ["", "not a cursor!", "AAAA", "x" * 2000, base64.urlsafe_b64encode(b"\x01" * 40).decode()],
)
async def test_malformed_cursors(client: httpx.AsyncClient, alice_cursor: str, cursor: str) -> None:
    assert await _photos_error(client, first=2, after=cursor) == "BAD_CURSOR"
    assert await _photos_error(client, last=2, before=cursor) == "BAD_CURSOR"


async def test_forged_cursor(client: httpx.AsyncClient, alice_cursor: str) -> None:
    raw = bytearray(base64.urlsafe_b64decode(alice_cursor + "=" * (-len(alice_cursor) % 4)))
    raw[12] ^= 0x01  # change the position, keep the signature
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    assert await _photos_error(client, first=2, after=forged) == "BAD_CURSOR"


async def test_cursor_signed_with_another_secret(
    client: httpx.AsyncClient, alice_cursor: str
) -> None:
    other = CursorCodec(b"some other server").encode("photos:user:id-alice", Position("1"))
    assert await _photos_error(client, first=2, after=other) == "BAD_CURSOR"


async def test_cursor_from_another_users_list(
    client: httpx.AsyncClient, store: Store, alice_cursor: str
) -> None:
    bob = await make_user(store, "bob")
    await make_photos(store, bob, 2)
    body = await graphql(
        client, USER_PHOTOS, {"username": "bob", "first": 1, "after": alice_cursor}
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_CURSOR"
    body = await graphql(
        client,
        "query($a: String){ photos(first: 1, after: $a) { edges { cursor } } }",
        {"a": alice_cursor},
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_CURSOR"


async def test_cursor_in_an_older_format(
    client: httpx.AsyncClient, alice_cursor: str, settings: object
) -> None:
    codec = CursorCodec(b"test-secret-" * 4)
    current = codec.decode("photos:user:id-alice", alice_cursor)
    assert codec.encode("photos:user:id-alice", current) == alice_cursor
    raw = bytearray(base64.urlsafe_b64decode(alice_cursor + "=" * (-len(alice_cursor) % 4)))
    raw[0] = 0  # version 0, re-signed below as an old server would have
    body = bytes(raw[:-16])
    import hashlib
    import hmac

    key = hashlib.sha256(b"cursor:" + b"test-secret-" * 4).digest()
    old = body + hmac.new(key, body, hashlib.sha256).digest()[:16]
    cursor = base64.urlsafe_b64encode(old).rstrip(b"=").decode()
    assert await _photos_error(client, first=2, after=cursor) == "BAD_CURSOR"


@pytest.mark.parametrize(
    "args",
    [
        {"first": -1},
        {"last": -1},
        {"first": 51},
        {"last": 51},
        {"first": 2, "last": 2},
        {"first": 10**6},
    ],
)
async def test_page_size_out_of_range(
    client: httpx.AsyncClient, alice_cursor: str, args: dict[str, int]
) -> None:
    assert await _photos_error(client, **args) == "BAD_USER_INPUT"


async def test_wrong_argument_types(client: httpx.AsyncClient, alice_cursor: str) -> None:
    assert await _photos_error(client, first="ten") == "BAD_USER_INPUT"
    assert await _photos_error(client, first=2**40) == "BAD_USER_INPUT"


NODE = "query($id: ID!) { node(id: $id) { id } }"


@pytest.mark.parametrize("bad_id", ["", "!!!", "bm9wZQ", "x" * 600])
async def test_malformed_ids(client: httpx.AsyncClient, bad_id: str) -> None:
    assert await _error_code(client, NODE, id=bad_id) == "BAD_USER_INPUT"


async def test_unknown_and_wrong_type_ids_are_null(client: httpx.AsyncClient, store: Store) -> None:
    alice = await make_user(store, "alice")
    [photo] = await make_photos(store, alice, 1)
    missing_user = to_global_id("User", Key.of("User", "nobody"))
    user_named_as_photo = to_global_id("Photo", alice.key)
    photo_named_as_user = to_global_id("User", photo.key)
    unknown_type = to_global_id("Username", Key.of("Username", "alice"))
    for bad in (missing_user, user_named_as_photo, photo_named_as_user, unknown_type):
        # Relay clients take null for "gone": no error, and nothing else on the page lost.
        assert await graphql(client, NODE, {"id": bad}) == {"data": {"node": None}}


async def test_nodes_resolves_many_and_nulls_the_missing(
    client: httpx.AsyncClient, store: Store
) -> None:
    alice = await make_user(store, "alice")
    [photo] = await make_photos(store, alice, 1)
    ids = [
        to_global_id("User", alice.key),
        to_global_id("User", Key.of("User", "x")),
        to_global_id("Photo", photo.key),
    ]
    body = await graphql(client, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    assert body["data"]["nodes"] == [{"id": ids[0]}, None, {"id": ids[2]}]
    too_many = [ids[0]] * 101
    body = await graphql(
        client, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": too_many}
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_syntax_and_validation_errors_carry_codes(client: httpx.AsyncClient) -> None:
    assert await _error_code(client, "{ photos(first: 1 { edges }") == "GRAPHQL_PARSE_FAILED"
    assert await _error_code(client, "{ nope }") == "GRAPHQL_VALIDATION_FAILED"


async def test_queries_nested_past_the_depth_limit_are_refused(client: httpx.AsyncClient) -> None:
    deep = (
        "{ photos { edges { node { owner { photos { edges { node { owner { photos { edges {"
        " node { owner { photos { edges { node { id } } } } } } } } } } } } } } } }"
    )
    response = await client.post("/graphql", json={"query": deep})
    assert response.status_code == 400
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert body["errors"][0]["extensions"]["rule"] == "depth"


async def test_unknown_user_is_null_not_an_error(client: httpx.AsyncClient) -> None:
    body = await graphql(client, '{ user(username: "nobody") { id } }')
    assert body == {"data": {"user": None}}
