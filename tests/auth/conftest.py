"""Fixtures for the token tests: a signing key, its certificate served on
127.0.0.1, a settable clock, a verifier wired to them, and where a dev-token key
lives."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auth import FirebaseTokenVerifier, InvalidToken, Reason, key_path_in
from tests.utils.tokens import (
    CertServer,
    FakeClock,
    RsaSigningKey,
    make_rsa_signing_key,
    serving_certificates,
)

PROJECT = "photo-timeline-test"
KID = "key-1"
NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
MAX_AGE = 600


@pytest.fixture(scope="module")
def google_key() -> RsaSigningKey:
    return make_rsa_signing_key("securetoken")


@pytest.fixture(scope="module")
def foreign_key() -> RsaSigningKey:
    return make_rsa_signing_key("attacker")


@pytest.fixture
def cert_server(google_key: RsaSigningKey) -> Iterator[CertServer]:
    with serving_certificates(
        {KID: google_key.certificate_pem}, f"public, max-age={MAX_AGE}, must-revalidate"
    ) as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    return key_path_in(tmp_path / "var")


@pytest.fixture
def verifier(cert_server: CertServer, clock: FakeClock) -> FirebaseTokenVerifier:
    return FirebaseTokenVerifier(PROJECT, certs_url=cert_server.url, clock=clock)


def claims(**overrides: object) -> dict[str, object]:
    now = int(NOW.timestamp())
    base: dict[str, object] = {
        "iss": f"https://securetoken.google.com/{PROJECT}",
        "aud": PROJECT,
        "auth_time": now - 60,
        "user_id": "uid-123",
        "sub": "uid-123",
        "iat": now - 10,
        "exp": now + 3590,
        "email": "alice@example.com",
        "email_verified": True,
        "firebase": {"identities": {}, "sign_in_provider": "password"},
    }
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


async def rejection(verifier: FirebaseTokenVerifier, token: str) -> Reason:
    with pytest.raises(InvalidToken) as caught:
        await verifier.verify(token)
    return caught.value.reason
