"""Firebase signing certificates: fetched once, cached for their max-age, and an
unreachable or unusable endpoint makes the verifier unavailable, not the token invalid."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import pytest

from auth import FirebaseTokenVerifier, VerifierUnavailable
from tests.auth.conftest import KID, MAX_AGE, PROJECT, claims, rejection
from tests.utils.tokens import (
    CertServer,
    FakeClock,
    RsaSigningKey,
    serving_certificates,
)


async def test_certificates_are_fetched_once_across_many_verifications(
    verifier: FirebaseTokenVerifier,
    google_key: RsaSigningKey,
    cert_server: CertServer,
    clock: FakeClock,
) -> None:
    tokens = [google_key.sign_rs256(claims(sub=f"uid-{n}"), KID) for n in range(5)]
    await asyncio.gather(*(verifier.verify(token) for token in tokens * 4))
    for token in tokens * 4:
        await verifier.verify(token)
    await rejection(verifier, google_key.sign_rs256(claims(), "key-2"))
    assert cert_server.requests == 1

    clock.advance(timedelta(seconds=MAX_AGE - 1))
    await verifier.verify(tokens[0])
    assert cert_server.requests == 1
    clock.advance(timedelta(seconds=2))
    await verifier.verify(tokens[0])
    assert cert_server.requests == 2


async def test_rotated_certificates_are_picked_up_when_the_cache_expires(
    verifier: FirebaseTokenVerifier,
    cert_server: CertServer,
    foreign_key: RsaSigningKey,
    clock: FakeClock,
) -> None:
    token = foreign_key.sign_rs256(claims(), "key-2")
    assert await rejection(verifier, token) == "unknown_key"
    cert_server.certificates["key-2"] = foreign_key.certificate_pem
    clock.advance(timedelta(seconds=MAX_AGE))
    assert (await verifier.verify(token)).user_id == "uid-123"


async def test_missing_max_age_falls_back_to_five_minutes(
    google_key: RsaSigningKey, clock: FakeClock
) -> None:
    with serving_certificates({KID: google_key.certificate_pem}, "no-transform") as server:
        verifier = FirebaseTokenVerifier(PROJECT, certs_url=server.url, clock=clock)
        token = google_key.sign_rs256(claims(), KID)
        await verifier.verify(token)
        clock.advance(timedelta(seconds=299))
        await verifier.verify(token)
        assert server.requests == 1
        clock.advance(timedelta(seconds=2))
        await verifier.verify(token)
        assert server.requests == 2


async def test_certificate_fetch_does_not_block_the_event_loop(
    verifier: FirebaseTokenVerifier, google_key: RsaSigningKey, cert_server: CertServer
) -> None:
    release = threading.Event()
    cert_server.hold = release
    pending = asyncio.create_task(verifier.verify(google_key.sign_rs256(claims(), KID)))
    # Runs only if the loop is free while the fetch waits; otherwise the fetch times out.
    assert await asyncio.to_thread(cert_server.arrived.wait, 5)
    release.set()
    assert (await pending).user_id == "uid-123"


async def test_unreachable_certificates_make_the_verifier_unavailable(
    verifier: FirebaseTokenVerifier,
    google_key: RsaSigningKey,
    cert_server: CertServer,
    clock: FakeClock,
) -> None:
    token = google_key.sign_rs256(claims(), KID)
    cert_server.status = 500
    with pytest.raises(VerifierUnavailable):
        await verifier.verify(token)
    with pytest.raises(VerifierUnavailable):
        await verifier.verify(token)
    assert cert_server.requests == 1

    cert_server.status = 200
    clock.advance(timedelta(seconds=6))
    assert (await verifier.verify(token)).user_id == "uid-123"
    assert cert_server.requests == 2


async def test_unusable_certificates_make_the_verifier_unavailable(
    google_key: RsaSigningKey, clock: FakeClock
) -> None:
    with serving_certificates({KID: "not a certificate"}) as server:
        verifier = FirebaseTokenVerifier(PROJECT, certs_url=server.url, clock=clock)
        with pytest.raises(VerifierUnavailable):
            await verifier.verify(google_key.sign_rs256(claims(), KID))


async def test_closed_port_makes_the_verifier_unavailable(
    google_key: RsaSigningKey, clock: FakeClock
) -> None:
    with serving_certificates({}) as server:
        url = server.url
    verifier = FirebaseTokenVerifier(PROJECT, certs_url=url, clock=clock)
    with pytest.raises(VerifierUnavailable):
        await verifier.verify(google_key.sign_rs256(claims(), KID))
