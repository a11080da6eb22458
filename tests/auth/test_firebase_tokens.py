"""Firebase ID tokens: what is accepted and every way a token is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given
from hypothesis import strategies as st

from auth import FirebaseTokenVerifier, InvalidToken, Reason, Viewer
from tests.auth.conftest import KID, NOW, PROJECT, claims, rejection
from tests.utils.tokens import (
    CertServer,
    FakeClock,
    RsaSigningKey,
    b64url,
    compact,
    sign_hs256,
)


async def test_valid_token_gives_the_viewer(
    verifier: FirebaseTokenVerifier, google_key: RsaSigningKey
) -> None:
    viewer = await verifier.verify(google_key.sign_rs256(claims(), KID))
    assert viewer == Viewer("uid-123", "firebase", email="alice@example.com", is_admin=False)


@pytest.mark.parametrize(("admin", "is_admin"), [(True, True), ("true", False), (1, False)])
async def test_admin_custom_claim(
    verifier: FirebaseTokenVerifier, google_key: RsaSigningKey, admin: object, is_admin: bool
) -> None:
    viewer = await verifier.verify(google_key.sign_rs256(claims(admin=admin), KID))
    assert viewer.is_admin is is_admin


async def test_unverified_email_is_not_reported(
    verifier: FirebaseTokenVerifier, google_key: RsaSigningKey
) -> None:
    viewer = await verifier.verify(google_key.sign_rs256(claims(email_verified=False), KID))
    assert viewer.email is None


async def test_expired_token(
    verifier: FirebaseTokenVerifier, google_key: RsaSigningKey, clock: FakeClock
) -> None:
    token = google_key.sign_rs256(claims(exp=int(NOW.timestamp()) + 3600), KID)
    clock.advance(timedelta(seconds=3600 + 9))
    assert (await verifier.verify(token)).user_id == "uid-123"
    clock.advance(timedelta(seconds=1))
    assert await rejection(verifier, token) == "expired"


@pytest.mark.parametrize("claim", ["iat", "nbf", "auth_time"])
async def test_token_from_the_future_is_not_yet_valid(
    verifier: FirebaseTokenVerifier, google_key: RsaSigningKey, claim: str
) -> None:
    soon = int(NOW.timestamp()) + 5
    assert (await verifier.verify(google_key.sign_rs256(claims(**{claim: soon}), KID))).user_id
    later = int(NOW.timestamp()) + 60
    token = google_key.sign_rs256(claims(**{claim: later}), KID)
    assert await rejection(verifier, token) == "not_yet_valid"


@pytest.mark.parametrize("claim", ["exp", "iat", "auth_time"])
async def test_required_times_must_be_present(
    verifier: FirebaseTokenVerifier, google_key: RsaSigningKey, claim: str
) -> None:
    token = google_key.sign_rs256(claims(**{claim: None}), KID)
    assert await rejection(verifier, token) == "malformed"


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "another-project", "iss": "https://securetoken.google.com/another-project"},
        {"aud": "another-project"},
        {"aud": [PROJECT]},
        {"aud": None},
    ],
)
async def test_wrong_audience(
    verifier: FirebaseTokenVerifier, google_key: RsaSigningKey, overrides: dict[str, object]
) -> None:
    token = google_key.sign_rs256(claims(**overrides), KID)
    assert await rejection(verifier, token) == "wrong_audience"


@pytest.mark.parametrize(
    "issuer",
    [
        "https://securetoken.google.com/another-project",
        "https://accounts.google.com",
        f"http://securetoken.google.com/{PROJECT}",
        None,
    ],
)
async def test_wrong_issuer(
    verifier: FirebaseTokenVerifier, google_key: RsaSigningKey, issuer: str | None
) -> None:
    token = google_key.sign_rs256(claims(iss=issuer), KID)
    assert await rejection(verifier, token) == "wrong_issuer"


@pytest.mark.parametrize(
    ("subject", "reason"),
    [("", "missing_subject"), (None, "missing_subject"), ("u" * 129, "invalid_subject")],
)
async def test_subject_must_be_a_short_non_empty_string(
    verifier: FirebaseTokenVerifier, google_key: RsaSigningKey, subject: str | None, reason: Reason
) -> None:
    token = google_key.sign_rs256(claims(sub=subject), KID)
    assert await rejection(verifier, token) == reason


async def test_subject_of_128_characters_is_accepted(
    verifier: FirebaseTokenVerifier, google_key: RsaSigningKey
) -> None:
    viewer = await verifier.verify(google_key.sign_rs256(claims(sub="u" * 128), KID))
    assert viewer.user_id == "u" * 128


async def test_non_string_subject_is_refused(
    verifier: FirebaseTokenVerifier, google_key: RsaSigningKey
) -> None:
    token = google_key.sign_rs256(claims(sub=123), KID)
    assert await rejection(verifier, token) == "invalid_subject"


async def test_foreign_key_with_a_known_kid_is_refused(
    verifier: FirebaseTokenVerifier, foreign_key: RsaSigningKey
) -> None:
    assert await rejection(verifier, foreign_key.sign_rs256(claims(), KID)) == "bad_signature"


async def test_tampered_payload_is_refused(
    verifier: FirebaseTokenVerifier, google_key: RsaSigningKey
) -> None:
    header, _, signature = google_key.sign_rs256(claims(), KID).split(".")
    _, payload, _ = google_key.sign_rs256(claims(sub="someone-else"), KID).split(".")
    assert await rejection(verifier, f"{header}.{payload}.{signature}") == "bad_signature"


@pytest.mark.parametrize("alg", ["none", "NONE", "", None])
async def test_unsigned_tokens_are_refused(
    verifier: FirebaseTokenVerifier, alg: str | None
) -> None:
    token = compact({"alg": alg, "kid": KID}, claims(), b"")
    assert await rejection(verifier, token) == "unsupported_algorithm"


async def test_hs256_keyed_with_the_public_certificate_is_refused(
    verifier: FirebaseTokenVerifier, google_key: RsaSigningKey
) -> None:
    token = sign_hs256(google_key.certificate_pem.encode(), claims(), header={"kid": KID})
    assert await rejection(verifier, token) == "unsupported_algorithm"


@pytest.mark.parametrize("alg", ["RS512", "PS256", "ES256", "rs256"])
async def test_other_asymmetric_algorithms_are_refused(
    verifier: FirebaseTokenVerifier, google_key: RsaSigningKey, alg: str
) -> None:
    token = google_key.sign_rs256(claims(), KID, header={"alg": alg})
    assert await rejection(verifier, token) == "unsupported_algorithm"


@pytest.mark.parametrize("where", ["jwk", "x5u", "jku"])
async def test_a_key_named_by_the_token_itself_is_never_used(
    verifier: FirebaseTokenVerifier, cert_server: CertServer, where: str
) -> None:
    # 1024 bits, so that the header carrying it stays under joserfc's 512-byte limit.
    foreign_key = RsaSigningKey(rsa.generate_private_key(public_exponent=65537, key_size=1024), "")
    public = foreign_key.private_key.public_key().public_numbers()
    embedded: dict[str, object] = {
        "jwk": {"kty": "RSA", "n": b64url(_bytes(public.n)), "e": b64url(_bytes(public.e))},
        "x5u": "http://127.0.0.1:9/attacker.pem",
        "jku": "http://127.0.0.1:9/attacker.json",
    }
    token = foreign_key.sign_rs256(claims(), KID, header={where: embedded[where]})
    assert await rejection(verifier, token) == "bad_signature"
    assert cert_server.requests == 1


def _bytes(number: int) -> bytes:
    return number.to_bytes((number.bit_length() + 7) // 8, "big")


async def test_unknown_kid_is_refused(
    verifier: FirebaseTokenVerifier, google_key: RsaSigningKey
) -> None:
    assert await rejection(verifier, google_key.sign_rs256(claims(), "key-2")) == "unknown_key"


@pytest.mark.parametrize("kid", [None, "", 7])
async def test_missing_kid_is_malformed(
    verifier: FirebaseTokenVerifier, google_key: RsaSigningKey, kid: object
) -> None:
    token = google_key.sign_rs256(claims(), None, header={} if kid is None else {"kid": kid})
    assert await rejection(verifier, token) == "malformed"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "eyJhbGciOiJSUzI1NiJ9.e30",
        "eyJhbGciOiJSUzI1NiJ9.e30.$$$$",
        "eyJhbGciOiJSUzI1NiJ9=.e30.AAAA",
        "bm90IGpzb24.e30.AAAA",
        "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.AAAA",
        "WzFd.e30.AAAA",
        "e30.e30." + "A" * 9000,
    ],
)
async def test_malformed_strings_are_refused(
    verifier: FirebaseTokenVerifier, cert_server: CertServer, token: str
) -> None:
    assert await rejection(verifier, token) == "malformed"
    assert cert_server.requests == 0


def test_a_project_id_is_required() -> None:
    with pytest.raises(ValueError, match="project_id"):
        FirebaseTokenVerifier("")


@given(token=st.text(max_size=300) | st.from_regex(r"[A-Za-z0-9_.-]{0,200}", fullmatch=True))
async def test_arbitrary_input_is_only_ever_refused(token: str) -> None:
    verifier = FirebaseTokenVerifier(PROJECT, certs_url="http://127.0.0.1:9/unused")
    with pytest.raises(InvalidToken):
        await verifier.verify(token)
