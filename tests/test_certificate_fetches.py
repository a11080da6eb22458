"""Forged tokens cost no network: with the certificate endpoint hanging, concurrent
forgeries share one fetch, the ones after its failure cause none, and anonymous
readers are served meanwhile. Both users of certificates: Firebase ID tokens on
/graphql, and Cloud Tasks' OIDC tokens on /_internal/."""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from auth.certificates import CertificateSource
from auth.errors import VerifierUnavailable
from settings import AuthSettings, Settings, TaskSettings
from tests.utils.clients import app_client
from tests.utils.tokens import (
    CertServer,
    RsaSigningKey,
    make_rsa_signing_key,
    serving_certificates,
)

FORGERIES = 20
PROJECT = "photo-timeline-test"
ANONYMOUS = {"query": "{ photos(first: 1) { edges { cursor } } }"}


@functools.cache
def attacker() -> RsaSigningKey:
    """A key Google never published (made when first used, not in every process that
    collects this module)."""
    return make_rsa_signing_key("attacker")


def forged(n: int) -> dict[str, str]:
    """Signed by the attacker's key, under a key id Google might have."""
    now = int(time.time())
    claims = {"sub": f"victim-{n}", "aud": PROJECT, "iat": now, "exp": now + 600}
    return {"Authorization": f"Bearer {attacker().sign_rs256(claims, 'google-key-1')}"}


@pytest.fixture
def hanging() -> Iterator[tuple[CertServer, threading.Event]]:
    """A certificate endpoint that answers 500, but only once `release` is set."""
    release = threading.Event()
    with serving_certificates({}) as server:
        server.status = 500
        server.hold = release
        try:
            yield server, release
        finally:
            release.set()


def settings_for(tmp_path: Path, certs_url: str) -> Settings:
    return Settings(
        environment="local",
        var_dir=tmp_path,
        sqlite_path=tmp_path / "timeline.db",
        secret_key=b"k" * 48,
        auth=AuthSettings(dev_tokens=False, firebase_project=PROJECT, firebase_certs_url=certs_url),
        tasks=TaskSettings(
            service_account="tasks@example.iam.gserviceaccount.com",
            audience="https://timeline.example.com",
            oidc_certs_url=certs_url,
        ),
    )


async def forge_while_hanging(
    http: httpx.AsyncClient,
    hanging: tuple[CertServer, threading.Event],
    path: str,
) -> list[httpx.Response]:
    server, release = hanging
    pending = [
        asyncio.create_task(http.post(path, json=ANONYMOUS, headers=forged(n)))
        for n in range(FORGERIES)
    ]
    assert await asyncio.to_thread(server.arrived.wait, 5)
    # While the one fetch hangs, a reader without a token is served.
    anonymous = await http.post("/graphql", json=ANONYMOUS)
    assert anonymous.status_code == 200, anonymous.text
    assert "errors" not in anonymous.json()
    assert not any(task.done() for task in pending), "the forgeries were answered before"
    release.set()
    return await asyncio.gather(*pending)


async def test_forged_firebase_tokens_share_one_fetch_and_then_cause_none(
    tmp_path: Path, hanging: tuple[CertServer, threading.Event]
) -> None:
    server, _ = hanging
    async with app_client(settings_for(tmp_path, server.url)) as http:
        responses = await forge_while_hanging(http, hanging, "/graphql")
        assert {response.status_code for response in responses} == {503}
        assert responses[0].json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert server.requests == 1
        # Within the backoff, more forgeries are refused without asking again.
        again = await asyncio.gather(
            *(http.post("/graphql", json=ANONYMOUS, headers=forged(n)) for n in range(FORGERIES))
        )
        assert {response.status_code for response in again} == {503}
        assert server.requests == 1


async def test_forged_oidc_tokens_share_one_fetch_and_then_cause_none(
    tmp_path: Path, hanging: tuple[CertServer, threading.Event]
) -> None:
    server, _ = hanging
    async with app_client(settings_for(tmp_path, server.url)) as http:
        path = "/_internal/tasks/test_noop"
        responses = await forge_while_hanging(http, hanging, path)
        assert {response.status_code for response in responses} == {503}
        assert server.requests == 1
        again = await asyncio.gather(
            *(http.post(path, json={}, headers=forged(n)) for n in range(FORGERIES))
        )
        assert {response.status_code for response in again} == {503}
        assert server.requests == 1


async def test_a_hanging_endpoint_is_given_up_after_the_timeout() -> None:
    release = threading.Event()
    with serving_certificates({}) as server:
        server.hold = release
        source = CertificateSource(server.url, dict, timeout=0.2)
        try:
            with pytest.raises(VerifierUnavailable):
                await source.current()
        finally:
            release.set()
        assert server.requests == 1


async def test_a_waiter_that_gives_up_leaves_the_fetch_to_the_others() -> None:
    release = threading.Event()
    with serving_certificates({"k": "pem"}) as server:
        server.hold = release
        source = CertificateSource(server.url, dict)
        impatient = asyncio.create_task(source.current())
        patient = asyncio.create_task(source.current())
        assert await asyncio.to_thread(server.arrived.wait, 5)
        impatient.cancel()
        release.set()
        assert await patient == {"k": "pem"}
        assert await source.current() == {"k": "pem"}
        assert server.requests == 1
