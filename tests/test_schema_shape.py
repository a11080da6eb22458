"""The schema's shape for mobile clients: dates in one format, failures that stay local."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from resolvers.node_ids import to_global_id
from schema.date_time import parse_date_time, serialize_date_time
from settings import Settings
from store.port import Store
from tests.conftest import graphql
from tests.utils.accounts import bearer, call
from tests.utils.builders import BASE_TIME, make_photos, make_user
from tests.utils.devices import device_token, register

APPLE_STYLE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\Z")


def test_date_times_are_utc_with_milliseconds_and_z() -> None:
    assert serialize_date_time(datetime(2026, 11, 30, 9, 41, 7, 123456, UTC)) == (
        "2026-11-30T09:41:07.123Z"
    )
    assert serialize_date_time(BASE_TIME) == "2026-06-01T12:00:00.000Z"
    two_hours_east = datetime(2026, 11, 30, 11, 41, 7, tzinfo=timezone(timedelta(hours=2)))
    assert serialize_date_time(two_hours_east) == "2026-11-30T09:41:07.000Z"
    assert serialize_date_time(datetime(2026, 11, 30, 9, 41, 7)) == "2026-11-30T09:41:07.000Z"


@given(st.datetimes(timezones=st.just(UTC)))
def test_every_instant_prints_one_shape_and_reads_back(moment: datetime) -> None:
    text = serialize_date_time(moment)
    assert APPLE_STYLE.match(text), text
    assert parse_date_time(text) == moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-30T09:41:07Z", datetime(2026, 11, 30, 9, 41, 7, tzinfo=UTC)),
        ("2026-11-30t09:41:07.5z", datetime(2026, 11, 30, 9, 41, 7, 500000, UTC)),
        ("2026-11-30T11:41:07.1234567+02:00", datetime(2026, 11, 30, 9, 41, 7, 123456, UTC)),
        ("2026-11-30T04:41:07.123-05:00", datetime(2026, 11, 30, 9, 41, 7, 123000, UTC)),
    ],
)
def test_input_takes_any_rfc_3339_date_time(text: str, expected: datetime) -> None:
    parsed = parse_date_time(text)
    assert parsed == expected
    assert parsed.tzinfo == UTC


@pytest.mark.parametrize(
    "text", ["2026-11-30 09:41:07Z", "2026-11-30T09:41:07", "2026-11-30", "yesterday", 1764495667]
)
def test_input_that_is_not_rfc_3339_is_refused(text: object) -> None:
    with pytest.raises(ValueError, match="RFC 3339"):
        parse_date_time(text)


async def test_every_date_time_field_answers_in_the_one_shape(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    alice = await make_user(store, "alice")
    await make_photos(store, alice, 1)  # created on a whole minute: no fraction to print
    as_alice = bearer(settings, alice.id)
    assert (await register(client, as_alice, device_token("phone")))["errors"] == []
    body = await call(
        client,
        "{ photos(first: 1) { nodes { createdAt } } viewer { devices { registeredAt } } }",
        headers=as_alice,
    )
    assert "errors" not in body, body
    [photo] = body["data"]["photos"]["nodes"]
    [device] = body["data"]["viewer"]["devices"]
    assert photo["createdAt"] == "2026-06-01T12:00:00.000Z"
    assert APPLE_STYLE.match(device["registeredAt"]), device


async def test_an_unknown_id_is_null_without_an_error(
    client: httpx.AsyncClient, store: Store
) -> None:
    alice = await make_user(store, "alice")
    [photo] = await make_photos(store, alice, 1)
    await store.delete_many([photo.key])
    body = await graphql(
        client,
        "query($a: ID!, $b: ID!) { gone: node(id: $a) { id } here: node(id: $b) { id } }",
        {"a": to_global_id("Photo", photo.key), "b": to_global_id("User", alice.key)},
    )
    assert body == {"data": {"gone": None, "here": {"id": to_global_id("User", alice.key)}}}


async def test_a_photo_without_its_owner_loses_only_its_owner(
    client: httpx.AsyncClient, store: Store
) -> None:
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    await make_photos(store, alice, 2)
    await make_photos(store, bob, 1, start=5)  # the newest
    await store.delete_many([bob.key])
    body = await graphql(client, "{ photos(first: 5) { edges { node { caption owner { id } } } } }")
    [error] = body["errors"]
    assert error["path"] == ["photos", "edges", 0, "node", "owner"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    edges = body["data"]["photos"]["edges"]
    assert [e["node"]["caption"] for e in edges] == ["photo 5", "photo 1", "photo 0"]
    assert [e["node"]["owner"] for e in edges] == [
        None,
        {"id": to_global_id("User", alice.key)},
        {"id": to_global_id("User", alice.key)},
    ]


async def test_a_connection_error_nulls_the_connection_not_its_parent(
    client: httpx.AsyncClient, store: Store
) -> None:
    await make_user(store, "alice")
    body = await graphql(
        client,
        '{ user(username: "alice") { username photos(after: "not-a-cursor") { nodes { id } }'
        " followers(first: 99) { nodes { id } } } }",
    )
    assert body["data"] == {"user": {"username": "alice", "photos": None, "followers": None}}
    codes = {tuple(e["path"]): e["extensions"]["code"] for e in body["errors"]}
    assert codes == {("user", "photos"): "BAD_CURSOR", ("user", "followers"): "BAD_USER_INPUT"}


async def test_viewer_needs_a_token_and_leaves_the_rest_of_the_answer(
    client: httpx.AsyncClient, store: Store
) -> None:
    await make_user(store, "alice")
    body = await graphql(
        client, '{ viewer { unreadNotificationCount } user(username: "alice") { id } }'
    )
    assert body["data"]["viewer"] is None
    assert body["data"]["user"] is not None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
