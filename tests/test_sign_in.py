"""Bearer tokens at the HTTP edge: a bad token is a 401 with a GraphQL error body."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from app import create_app
from auth.dev_tokens import key_path_in, mint_dev_token
from settings import AuthSettings, Settings
from store.sqlite import SQLiteStore
from tests.utils.accounts import VIEWER, create_profile
from tests.utils.tokens import CertServer, FakeClock, make_rsa_signing_key, serving_certificates

PROJECT = "photo-timeline-test"
KID = "test-key-1"


@pytest.fixture(scope="module")
def google_key() -> object:
    return make_rsa_signing_key()


@pytest.fixture
def cert_server(google_key: object) -> Iterator[CertServer]:
    with serving_certificates({KID: google_key.certificate_pem}) as server:  # type: ignore[attr-defined]
        yield server


@pytest.fixture
async def firebase_client(
    tmp_path: Path, cert_server: CertServer
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        var_dir=tmp_path,
        secret_key=b"s" * 40,
        auth=AuthSettings(
            dev_tokens=False, firebase_project=PROJECT, firebase_certs_url=cert_server.url
        ),
    )
    app = create_app(settings, store=SQLiteStore(tmp_path / "t.db"))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        yield http


def firebase_token(key: object, **overrides: object) -> str:
    now = int(datetime.now(UTC).timestamp())
    claims: dict[str, object] = {
        "iss": f"https://securetoken.google.com/{PROJECT}",
        "aud": PROJECT,
        "sub": "firebase-uid-1",
        "iat": now,
        "auth_time": now,
        "exp": now + 3600,
        **overrides,
    }
    return key.sign_rs256(claims, KID)  # type: ignore[attr-defined, no-any-return]


async def _post(http: httpx.AsyncClient, token: str | None, query: str = VIEWER) -> httpx.Response:
    headers = {"Authorization": token} if token is not None else {}
    return await http.post("/graphql", json={"query": query}, headers=headers)


async def test_a_firebase_user_signs_in_and_creates_a_profile(
    firebase_client: httpx.AsyncClient, google_key: object
) -> None:
    headers = {"Authorization": f"Bearer {firebase_token(google_key)}"}
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
    google_key: object,
    overrides: dict[str, object],
    reason: str,
) -> None:
    response = await _post(firebase_client, f"Bearer {firebase_token(google_key, **overrides)}")
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
