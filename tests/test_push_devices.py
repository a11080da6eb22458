"""registerDevice / unregisterDevice through the real app, on both stores."""

from __future__ import annotations

import httpx

from resolvers.devices import MAX_DEVICES
from settings import Settings
from store.device_models import claim_key
from store.port import Store
from tests.utils.accounts import bearer, call
from tests.utils.builders import make_user
from tests.utils.devices import REGISTER, device_token, devices_of, register, unregister


async def test_register_is_idempotent_and_unregister_removes(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    alice = await make_user(store, "alice")
    as_alice = bearer(settings, alice.id)
    token = device_token("phone")
    first = await register(client, as_alice, token, "ANDROID")
    assert first["errors"] == []
    assert first["device"]["platform"] == "ANDROID"
    again = await register(client, as_alice, token, "ANDROID")
    assert again["errors"] == []
    [device] = await devices_of(store, alice.id)
    assert (device.token, device.platform) == (token, "ANDROID")

    assert await unregister(client, as_alice, token) == {"removed": True, "errors": []}
    assert await unregister(client, as_alice, token) == {"removed": False, "errors": []}
    assert await devices_of(store, alice.id) == []
    assert await store.get_many([claim_key(token)]) == [None]


async def test_a_retry_with_the_same_idempotency_key_replays(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    alice = await make_user(store, "alice")
    as_alice = bearer(settings, alice.id)
    token = device_token("tablet")
    await register(client, as_alice, token, "IOS")
    first = await unregister(client, as_alice, token, idempotencyKey="k-1")
    replay = await unregister(client, as_alice, token, idempotencyKey="k-1")
    assert first == replay == {"removed": True, "errors": []}
    assert await devices_of(store, alice.id) == []
    registered = await register(client, as_alice, token, "WEB", idempotencyKey="k-2")
    again = await register(client, as_alice, token, "WEB", idempotencyKey="k-2")
    changed = await register(client, as_alice, token, "IOS", idempotencyKey="k-2")
    assert registered == again
    assert registered["errors"] == []
    assert [e["code"] for e in changed["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert [d.platform for d in await devices_of(store, alice.id)] == ["WEB"]


MALFORMED = {
    "empty": "",
    "short": "short:token",
    "31 characters": "x" * 31,
    "4097 characters": "x" * 4097,
    "a space": device_token("space").replace("Q", " ", 1),
    "a quote": device_token("quote") + '"',
    "a newline": device_token("newline") + "\n",
    "non-ASCII": device_token("unicode") + "é",
}


async def test_malformed_tokens_are_typed_errors_and_change_nothing(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    alice = await make_user(store, "alice")
    as_alice = bearer(settings, alice.id)
    for what, token in MALFORMED.items():
        for payload in (
            await register(client, as_alice, token, "IOS"),
            await unregister(client, as_alice, token),
        ):
            [error] = payload["errors"]
            assert (error["code"], error["field"]) == ("INVALID_INPUT", "token"), what
            assert "32 to 4096" in error["message"]
    assert await devices_of(store, alice.id) == []


async def test_the_bounds_of_a_token_are_accepted(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    alice = await make_user(store, "alice")
    as_alice = bearer(settings, alice.id)
    for token in ("a" * 32, "Z9_:.-" * 682 + "abcd"):
        assert (await register(client, as_alice, token, "WEB"))["errors"] == []
    assert len(await devices_of(store, alice.id)) == 2


async def test_a_token_registered_by_someone_else_moves_to_them(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    as_alice, as_bob = bearer(settings, alice.id), bearer(settings, bob.id)
    shared = device_token("family-ipad")
    await register(client, as_alice, shared, "IOS")
    await register(client, as_alice, device_token("alice-phone"), "IOS")
    await register(client, as_bob, shared, "IOS")
    assert [d.token for d in await devices_of(store, alice.id)] == [device_token("alice-phone")]
    assert [d.token for d in await devices_of(store, bob.id)] == [shared]
    # Alice signing out on another device cannot take Bob's token away.
    assert await unregister(client, as_alice, shared) == {"removed": False, "errors": []}
    assert [d.token for d in await devices_of(store, bob.id)] == [shared]


async def test_the_oldest_device_is_dropped_past_the_limit(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    alice = await make_user(store, "alice")
    as_alice = bearer(settings, alice.id)
    tokens = [device_token(f"install{n:02d}") for n in range(MAX_DEVICES + 2)]
    for token in tokens[:MAX_DEVICES]:
        await register(client, as_alice, token, "ANDROID")
    # Registering again refreshes a device: install00 is now the newest, install01 the oldest.
    await register(client, as_alice, tokens[0], "ANDROID")
    for token in tokens[MAX_DEVICES:]:
        assert (await register(client, as_alice, token, "ANDROID"))["errors"] == []
    kept = {d.token for d in await devices_of(store, alice.id)}
    assert len(kept) == MAX_DEVICES
    assert kept == set(tokens) - {tokens[1], tokens[2]}
    assert await store.get_many([claim_key(tokens[1]), claim_key(tokens[2])]) == [None, None]


async def test_registering_needs_a_profile_and_a_viewer(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    token = device_token("anon")
    nobody = await register(client, bearer(settings, "no-profile"), token, "IOS")
    assert [e["code"] for e in nobody["errors"]] == ["PROFILE_MISSING"]
    body = await call(client, REGISTER, {"i": {"token": token, "platform": "IOS"}})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    bad = await call(client, REGISTER, {"i": {"token": token, "platform": "BLACKBERRY"}})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
