"""The cache of verified tokens (auth/verified_tokens.py): a token is verified once
while it is valid, and every refusal stays the inner verifier's."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from auth import DevTokenVerifier, InvalidToken, Viewer, key_path_in, mint_dev_token
from auth.verified_tokens import MAX_AGE, MAX_ENTRIES, VerifiedTokens
from auth.verifiers import MAX_TOKEN_LENGTH, build_verifier
from settings import Settings
from tests.auth.conftest import NOW
from tests.utils.clients import app_client
from tests.utils.tokens import FakeClock


class CountingVerifier:
    """The real dev-token verifier, counting the tokens it is asked to check."""

    def __init__(self, inner: DevTokenVerifier) -> None:
        self.inner = inner
        self.calls = 0

    async def verify(self, token: str) -> Viewer:
        self.calls += 1
        return await self.inner.verify(token)


@pytest.fixture
def inner(key_path: Path, clock: FakeClock) -> CountingVerifier:
    return CountingVerifier(DevTokenVerifier(key_path, clock))


def cached(
    inner: CountingVerifier,
    clock: FakeClock,
    *,
    max_age: timedelta = MAX_AGE,
    max_entries: int = MAX_ENTRIES,
) -> VerifiedTokens:
    return VerifiedTokens(
        inner, clock, max_length=MAX_TOKEN_LENGTH, max_age=max_age, max_entries=max_entries
    )


async def test_a_token_is_verified_once_for_many_requests(
    inner: CountingVerifier, clock: FakeClock, key_path: Path
) -> None:
    verifier = cached(inner, clock)
    token = mint_dev_token(key_path, "alice", clock=FakeClock(NOW))
    for _ in range(20):
        clock.advance(timedelta(seconds=1))
        assert await verifier.verify(token) == Viewer("alice", "dev")
    assert inner.calls == 1


async def test_the_apps_verifier_is_the_cached_one(key_path: Path, clock: FakeClock) -> None:
    mint_dev_token(key_path, "alice", clock=FakeClock(NOW))  # creates the key
    verifier = build_verifier(
        dev_tokens_key=key_path, firebase_project=None, firebase_certs_url=None, clock=clock
    )
    assert isinstance(verifier, VerifiedTokens)


async def test_an_expired_token_is_refused_by_the_inner_verifier(
    inner: CountingVerifier, clock: FakeClock, key_path: Path
) -> None:
    verifier = cached(inner, clock, max_age=timedelta(days=1))
    token = mint_dev_token(key_path, "alice", ttl=timedelta(minutes=10), clock=FakeClock(NOW))
    await verifier.verify(token)
    clock.advance(timedelta(minutes=10, seconds=-1))
    await verifier.verify(token)
    assert inner.calls == 1
    clock.advance(timedelta(seconds=1))  # at exp: the entry has lapsed, the inner one decides
    await verifier.verify(token)  # (within its leeway it still accepts)
    assert inner.calls == 2
    clock.advance(timedelta(minutes=1))
    with pytest.raises(InvalidToken) as caught:
        await verifier.verify(token)
    assert caught.value.reason == "expired"
    assert inner.calls == 3


async def test_entries_lapse_after_max_age(
    inner: CountingVerifier, clock: FakeClock, key_path: Path
) -> None:
    verifier = cached(inner, clock, max_age=timedelta(minutes=5))
    token = mint_dev_token(key_path, "alice", clock=FakeClock(NOW))
    await verifier.verify(token)
    clock.advance(timedelta(minutes=5))
    await verifier.verify(token)
    assert inner.calls == 2


async def test_a_clock_gone_back_asks_again(
    inner: CountingVerifier, clock: FakeClock, key_path: Path
) -> None:
    verifier = cached(inner, clock)
    token = mint_dev_token(key_path, "alice", clock=FakeClock(NOW))
    await verifier.verify(token)
    clock.advance(timedelta(hours=-1))  # before its iat (past the leeway): refused
    with pytest.raises(InvalidToken) as caught:
        await verifier.verify(token)
    assert caught.value.reason == "not_yet_valid"
    assert inner.calls == 2


async def test_refusals_are_not_remembered(
    inner: CountingVerifier, clock: FakeClock, key_path: Path
) -> None:
    verifier = cached(inner, clock)
    forged = mint_dev_token(key_path, "alice", clock=FakeClock(NOW))[:-4] + "AAAA"
    for _ in range(3):
        with pytest.raises(InvalidToken):
            await verifier.verify(forged)
    assert inner.calls == 3


async def test_the_least_recently_used_token_is_forgotten(
    inner: CountingVerifier, clock: FakeClock, key_path: Path
) -> None:
    verifier = cached(inner, clock, max_entries=2)
    tokens = [
        mint_dev_token(key_path, user, clock=FakeClock(NOW)) for user in ("alice", "bob", "carol")
    ]
    for token in [tokens[0], tokens[1], tokens[0], tokens[2]]:
        await verifier.verify(token)
    assert inner.calls == 3  # bob was the least recently used when carol came
    await verifier.verify(tokens[0])
    assert inner.calls == 3
    await verifier.verify(tokens[1])
    assert inner.calls == 4


async def test_the_app_refuses_a_remembered_token_once_it_expires(settings: Settings) -> None:
    clock = FakeClock(NOW)
    token = mint_dev_token(
        key_path_in(settings.var_dir), "alice", ttl=timedelta(minutes=10), clock=FakeClock(NOW)
    )
    headers = {"authorization": f"Bearer {token}"}
    query = {"query": "{ viewer { __typename } }"}
    async with app_client(settings, clock=clock) as http:
        for _ in range(3):
            assert (await http.post("/graphql", json=query, headers=headers)).status_code == 200
            clock.advance(timedelta(minutes=3))
        # Verified at 0 and 6 minutes; 10.5 minutes on is past exp and the leeway,
        # though not 5 minutes past the last verification.
        clock.advance(timedelta(minutes=1, seconds=30))
        refused = await http.post("/graphql", json=query, headers=headers)
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
