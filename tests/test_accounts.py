"""Sign-in and profiles through the real app, on both stores."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from settings import Settings
from store.port import Store
from tests.utils.accounts import (
    UPDATE_PROFILE,
    VIEWER,
    bearer,
    call,
    create_profile,
)


async def test_viewer_needs_a_token(client: httpx.AsyncClient) -> None:
    body = await call(client, VIEWER)
    assert body["data"] == {"viewer": None}
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_new_user_creates_a_profile_and_sees_it_as_viewer(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    alice = bearer(settings, "alice-uid")
    assert (await call(client, VIEWER, headers=alice))["data"] == {"viewer": {"user": None}}
    payload = await create_profile(client, alice, username="Alice", displayName="  Alice L. ")
    assert payload["errors"] == []
    assert payload["user"]["username"] == "Alice"
    assert payload["user"]["displayName"] == "Alice L."
    viewer = (await call(client, VIEWER, headers=alice))["data"]["viewer"]["user"]
    assert viewer == payload["user"]
    by_name = await call(client, '{ user(username: "aLiCe") { id } }')
    assert by_name["data"]["user"]["id"] == viewer["id"]


@pytest.mark.parametrize(
    ("username", "display_name", "code", "field"),
    [
        ("al", "Al", "INVALID_INPUT", "username"),
        ("a" * 31, "A", "INVALID_INPUT", "username"),
        ("9lives", "Cat", "INVALID_INPUT", "username"),
        ("bad name", "B", "INVALID_INPUT", "username"),
        ("dots..dots", "D", "INVALID_INPUT", "username"),
        ("trailing.", "T", "INVALID_INPUT", "username"),
        ("ünïcode", "U", "INVALID_INPUT", "username"),
        ("Admin", "A", "USERNAME_RESERVED", "username"),
        ("graph_ql", "G", "USERNAME_RESERVED", "username"),
        ("fine_name", "", "INVALID_INPUT", "displayName"),
        ("fine_name", "x" * 51, "INVALID_INPUT", "displayName"),
        ("fine_name", "bell\x07", "INVALID_INPUT", "displayName"),
    ],
)
async def test_bad_profiles_are_typed_errors_and_write_nothing(
    client: httpx.AsyncClient,
    settings: Settings,
    store: Store,
    username: str,
    display_name: str,
    code: str,
    field: str,
) -> None:
    headers = bearer(settings, "someone")
    before = store.round_trips
    payload = await create_profile(client, headers, username=username, displayName=display_name)
    assert payload["user"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)]
    assert store.round_trips == before
    assert (await call(client, VIEWER, headers=headers))["data"] == {"viewer": {"user": None}}


async def test_usernames_are_unique_regardless_of_case(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await create_profile(client, bearer(settings, "a"), username="alice", displayName="A")
    payload = await create_profile(client, bearer(settings, "b"), username="ALICE", displayName="B")
    assert payload["user"] is None
    assert payload["errors"][0]["code"] == "USERNAME_TAKEN"


async def test_a_second_profile_is_refused(client: httpx.AsyncClient, settings: Settings) -> None:
    alice = bearer(settings, "a")
    await create_profile(client, alice, username="alice", displayName="A")
    payload = await create_profile(client, alice, username="alice2", displayName="A")
    assert payload["errors"][0]["code"] == "PROFILE_EXISTS"
    assert (await call(client, '{ user(username: "alice2") { id } }'))["data"]["user"] is None


async def test_racing_sign_ups_for_one_name_have_exactly_one_winner(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    racers = [bearer(settings, f"racer-{n}") for n in range(6)]
    payloads = await asyncio.gather(
        *(create_profile(client, h, username="prize", displayName="P") for h in racers)
    )
    winners = [p for p in payloads if p["user"]]
    assert len(winners) == 1
    assert (
        sorted(p["errors"][0]["code"] for p in payloads if not p["user"]) == ["USERNAME_TAKEN"] * 5
    )
    owner = await call(client, '{ user(username: "prize") { id } }')
    assert owner["data"]["user"]["id"] == winners[0]["user"]["id"]


async def test_a_retried_mutation_changes_nothing_twice(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    alice = bearer(settings, "a")
    first = await create_profile(
        client, alice, username="alice", displayName="A", idempotencyKey="k1"
    )
    again = await create_profile(
        client, alice, username="alice", displayName="A", idempotencyKey="k1"
    )
    assert again == first
    assert first["errors"] == []
    other_input = await create_profile(
        client, alice, username="alicia", displayName="A", idempotencyKey="k1"
    )
    assert other_input["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    without_key = await create_profile(client, alice, username="alice", displayName="A")
    assert without_key["errors"][0]["code"] == "PROFILE_EXISTS"


async def test_idempotency_keys_are_per_viewer(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    a = await create_profile(
        client, bearer(settings, "a"), username="ann", displayName="A", idempotencyKey="same"
    )
    b = await create_profile(
        client, bearer(settings, "b"), username="ben", displayName="B", idempotencyKey="same"
    )
    assert a["user"]["username"] == "ann"
    assert b["user"]["username"] == "ben"


async def test_bad_idempotency_key(client: httpx.AsyncClient, settings: Settings) -> None:
    body = await call(
        client,
        "mutation($i: CreateProfileInput!) { createProfile(input: $i) { user { id } } }",
        {"i": {"username": "okay", "displayName": "O", "idempotencyKey": "k" * 129}},
        bearer(settings, "a"),
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_rename_frees_the_old_name(client: httpx.AsyncClient, settings: Settings) -> None:
    alice = bearer(settings, "a")
    await create_profile(client, alice, username="alice", displayName="A")
    await create_profile(client, bearer(settings, "b"), username="bob", displayName="B")
    taken = await call(client, UPDATE_PROFILE, {"input": {"username": "BOB"}}, alice)
    assert taken["data"]["updateProfile"]["errors"][0]["code"] == "USERNAME_TAKEN"
    renamed = await call(
        client, UPDATE_PROFILE, {"input": {"username": "alicia", "displayName": "Al"}}, alice
    )
    assert renamed["data"]["updateProfile"]["user"]["username"] == "alicia"
    assert (await call(client, '{ user(username: "alice") { id } }'))["data"]["user"] is None
    case_only = await call(client, UPDATE_PROFILE, {"input": {"username": "Alicia"}}, alice)
    assert case_only["data"]["updateProfile"]["user"]["username"] == "Alicia"
    reclaimed = await create_profile(
        client, bearer(settings, "c"), username="alice", displayName="C"
    )
    assert reclaimed["errors"] == []


async def test_update_before_create(client: httpx.AsyncClient, settings: Settings) -> None:
    body = await call(
        client, UPDATE_PROFILE, {"input": {"displayName": "X"}}, bearer(settings, "new")
    )
    assert body["data"]["updateProfile"]["errors"][0]["code"] == "PROFILE_MISSING"
