"""Signing in with Firebase ID tokens through the real verifier: a signing key
whose certificate is served on 127.0.0.1, the app trusting it (and no dev
tokens), and tokens as Firebase mints them. tests/conftest.py registers the
fixtures for every module."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from settings import AuthSettings, Settings
from tests.utils.clients import app_client
from tests.utils.tokens import CertServer, RsaSigningKey, make_rsa_signing_key, serving_certificates

PROJECT = "photo-timeline-test"
KID = "test-key-1"


@pytest.fixture(scope="module")
def firebase_key() -> RsaSigningKey:
    return make_rsa_signing_key()


@pytest.fixture
def firebase_certs(firebase_key: RsaSigningKey) -> Iterator[CertServer]:
    with serving_certificates({KID: firebase_key.certificate_pem}) as server:
        yield server


@pytest.fixture
async def firebase_client(
    tmp_path: Path, firebase_certs: CertServer
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        var_dir=tmp_path,
        sqlite_path=tmp_path / "timeline.db",
        secret_key=b"s" * 40,
        auth=AuthSettings(
            dev_tokens=False, firebase_project=PROJECT, firebase_certs_url=firebase_certs.url
        ),
    )
    async with app_client(settings) as http:
        yield http


def firebase_token(key: RsaSigningKey, **overrides: object) -> str:
    """An ID token for PROJECT, issued now and valid for an hour; `overrides` replace
    or add claims."""
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
    return key.sign_rs256(claims, KID)
