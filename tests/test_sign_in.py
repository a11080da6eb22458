"""Bearer tokens at the HTTP edge: a bad token is a 401 with a GraphQL error body."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from auth.dev_tokens import key_path_in, mint_dev_token
from settings import Settings
from tests.utils.accounts import VIEWER, create_profile
from tests.utils.firebase_sign_in import firebase_token
from tests.utils.tokens import FakeClock, RsaSigningKey


async def _post(http: httpx.AsyncClient, token: str | None, query: str = VIEWER) -> httpx.Response:
    headers = {"Authorization": token} if token is not None else {}
    return await http.post("/graphql", json={"query": query}, headers=headers)


async def test_a_firebase_user_signs_in_and_creates_a_profile(
    firebase_client: httpx.AsyncClient, firebase_key: RsaSigningKey
) -> None:
    headers = {"Authorization": f"Bearer {firebase_token(firebase_key)}"}
    payload = await create_profile(firebase_client, headers, username="fiona", displayName="F")
    assert payload["errors"] == []
    response = await firebase_client.post("/graphql", json={"query": VIEWER}, headers=headers)
    assert response.json()["data"]["viewer"]["user"]["username"] == "fiona"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"aud": "someone-elses-project"}, "wrong_audience"),
        ({"iss": "https://securetoken.google.com/other"}, "wrong_issuer"),
        ({"exp": 1_000_000}, "expired"),
        ({"sub": ""}, "missing_subject"),
    ],
)
async def test_bad_firebase_tokens_are_401(
    firebase_client: httpx.AsyncClient,
    firebase_key: RsaSigningKey,
    overrides: dict[str, object],
    reason: str,
) -> None:
    response = await _post(firebase_client, f"Bearer {firebase_token(firebase_key, **overrides)}")
    assert response.status_code == 401
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED", "reason": reason}
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_dev_tokens_are_refused_when_disabled(
    firebase_client: httpx.AsyncClient, tmp_path: Path
) -> None:
    token = mint_dev_token(key_path_in(tmp_path), "alice")
    response = await _post(firebase_client, f"Bearer {token}")
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["reason"] == "unsupported_algorithm"


@pytest.mark.parametrize(
    "authorization", ["Bearer", "Bearer    ", "Basic dXNlcjpwYXNz", "Bearer not.a.token", "x"]
)
async def test_malformed_authorization_headers_are_401(
    client: httpx.AsyncClient, authorization: str
) -> None:
    response = await _post(client, authorization)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_expired_dev_token_is_401(client: httpx.AsyncClient, settings: Settings) -> None:
    token = mint_dev_token(
        key_path_in(settings.var_dir),
        "alice",
        clock=FakeClock(datetime.now(UTC) - timedelta(days=60)),
    )
    response = await _post(client, f"Bearer {token}")
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["reason"] == "expired"


async def test_no_token_reads_public_data(client: httpx.AsyncClient) -> None:
    response = await _post(client, None, '{ user(username: "nobody") { id } }')
    assert response.json() == {"data": {"user": None}}
