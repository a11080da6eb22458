from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auth import DevTokenVerifier, InvalidToken, Reason, Viewer, key_path_in, mint_dev_token
from auth.dev_tokens import ISSUER, load_or_create_key
from tests.auth.conftest import NOW
from tests.utils.tokens import FakeClock, b64url, compact, json_segment, sign_hs256

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def key(key_path: Path) -> bytes:
    return load_or_create_key(key_path)


@pytest.fixture
def verifier(key_path: Path, clock: FakeClock) -> DevTokenVerifier:
    return DevTokenVerifier(key_path, clock)


def claims(**overrides: object) -> dict[str, object]:
    issued = int(NOW.timestamp())
    base: dict[str, object] = {"iss": ISSUER, "sub": "alice", "iat": issued, "exp": issued + 60}
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


async def rejection(verifier: DevTokenVerifier, token: str) -> Reason:
    with pytest.raises(InvalidToken) as caught:
        await verifier.verify(token)
    return caught.value.reason


async def test_minted_token_names_the_user(verifier: DevTokenVerifier, key_path: Path) -> None:
    token = mint_dev_token(key_path, "alice", clock=FakeClock(NOW))
    assert await verifier.verify(token) == Viewer(user_id="alice", provider="dev")


async def test_admin_flag_becomes_is_admin(verifier: DevTokenVerifier, key_path: Path) -> None:
    token = mint_dev_token(key_path, "root_1", admin=True, clock=FakeClock(NOW))
    assert await verifier.verify(token) == Viewer("root_1", "dev", is_admin=True)


async def test_only_a_literal_true_admin_claim_grants_admin(
    verifier: DevTokenVerifier, key: bytes
) -> None:
    token = sign_hs256(key, claims(admin="true"))
    assert not (await verifier.verify(token)).is_admin


def test_key_is_created_once_with_owner_only_permissions(key_path: Path) -> None:
    mint_dev_token(key_path, "alice", clock=FakeClock(NOW))
    key = key_path.read_bytes()
    assert len(key) == 32
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    mint_dev_token(key_path, "bob", clock=FakeClock(NOW))
    DevTokenVerifier(key_path)
    assert key_path.read_bytes() == key
    assert sorted(p.name for p in key_path.parent.iterdir()) == ["dev-token.key"]


async def test_verifier_created_first_shares_its_key_with_later_mints(
    key_path: Path, clock: FakeClock
) -> None:
    verifier = DevTokenVerifier(key_path, clock)
    token = mint_dev_token(key_path, "alice", clock=clock)
    assert (await verifier.verify(token)).user_id == "alice"


def test_a_key_file_of_the_wrong_size_is_refused(key_path: Path) -> None:
    key_path.parent.mkdir(parents=True)
    key_path.write_bytes(b"short")
    with pytest.raises(ValueError, match=r"dev-token\.key"):
        DevTokenVerifier(key_path)


async def test_token_is_valid_until_it_expires(
    verifier: DevTokenVerifier, key_path: Path, clock: FakeClock
) -> None:
    token = mint_dev_token(key_path, "alice", ttl=timedelta(hours=1), clock=FakeClock(NOW))
    clock.advance(timedelta(minutes=59))
    assert (await verifier.verify(token)).user_id == "alice"
    clock.advance(timedelta(minutes=2))
    assert await rejection(verifier, token) == "expired"


async def test_default_lifetime_is_thirty_days(
    verifier: DevTokenVerifier, key_path: Path, clock: FakeClock
) -> None:
    token = mint_dev_token(key_path, "alice", clock=FakeClock(NOW))
    clock.advance(timedelta(days=30, seconds=-60))
    assert (await verifier.verify(token)).user_id == "alice"
    clock.advance(timedelta(minutes=2))
    assert await rejection(verifier, token) == "expired"


def test_a_token_is_issued_at_the_time_of_the_clock_it_is_handed(key_path: Path) -> None:
    token = mint_dev_token(key_path, "alice", ttl=timedelta(hours=1), clock=FakeClock(NOW))
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    issued = int(NOW.timestamp())  # 2030: years from the wall clock
    assert (payload["iat"], payload["exp"]) == (issued, issued + 3600)


async def test_token_issued_in_the_future_is_not_yet_valid(
    verifier: DevTokenVerifier, key_path: Path
) -> None:
    token = mint_dev_token(key_path, "alice", clock=FakeClock(NOW + timedelta(minutes=5)))
    assert await rejection(verifier, token) == "not_yet_valid"


async def test_tampered_payload_is_refused(verifier: DevTokenVerifier, key_path: Path) -> None:
    header, _, signature = mint_dev_token(key_path, "alice", clock=FakeClock(NOW)).split(".")
    forged = f"{header}.{json_segment(claims(sub='mallory', admin=True))}.{signature}"
    assert await rejection(verifier, forged) == "bad_signature"


async def test_tampered_signature_is_refused(verifier: DevTokenVerifier, key_path: Path) -> None:
    header, payload, signature = mint_dev_token(key_path, "alice", clock=FakeClock(NOW)).split(".")
    flipped = "A" if signature[0] != "A" else "B"
    assert await rejection(verifier, f"{header}.{payload}.{flipped}{signature[1:]}") == (
        "bad_signature"
    )


async def test_token_signed_with_another_key_is_refused(
    verifier: DevTokenVerifier, tmp_path: Path
) -> None:
    token = mint_dev_token(key_path_in(tmp_path / "elsewhere"), "alice", clock=FakeClock(NOW))
    assert await rejection(verifier, token) == "bad_signature"


@pytest.mark.parametrize("alg", ["none", "None", "HS512", "RS256", "", None])
async def test_algorithms_other_than_hs256_are_refused(
    verifier: DevTokenVerifier, key: bytes, alg: str | None
) -> None:
    signed = sign_hs256(key, claims(), header={"alg": alg})
    unsigned = compact({"alg": alg}, claims(), b"")
    assert await rejection(verifier, signed) == "unsupported_algorithm"
    assert await rejection(verifier, unsigned) == "unsupported_algorithm"


async def test_hs256_token_without_signature_is_refused(verifier: DevTokenVerifier) -> None:
    assert await rejection(verifier, compact({"alg": "HS256"}, claims(), b"")) == "bad_signature"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"iss": "someone-else"}, "wrong_issuer"),
        ({"iss": None}, "wrong_issuer"),
        ({"sub": ""}, "missing_subject"),
        ({"sub": None}, "missing_subject"),
        ({"sub": "a" * 65}, "invalid_subject"),
        ({"sub": "alice/../bob"}, "invalid_subject"),
        ({"sub": 42}, "invalid_subject"),
        ({"exp": None}, "malformed"),
        ({"iat": None}, "malformed"),
        ({"exp": "soon"}, "malformed"),
        ({"exp": True}, "malformed"),
        ({"exp": 10**400}, "malformed"),
        ({"exp": 1e308 * 10}, "malformed"),
    ],
)
async def test_claims_are_checked(
    verifier: DevTokenVerifier, key: bytes, overrides: dict[str, object], reason: Reason
) -> None:
    token = sign_hs256(key, claims(**overrides))
    assert await rejection(verifier, token) == reason


def raw(header: str, payload: str, signature: str = "AAAA") -> str:
    return f"{b64url(header.encode())}.{b64url(payload.encode())}.{signature}"


HS256 = '{"alg":"HS256"}'
MALFORMED = [
    "",
    "not-a-token",
    "a.b",
    "a.b.c.d",
    "..",
    "!!!.e30.AAAA",
    "eyJhbGciOiJIUzI1NiJ9=.e30.AAAA",
    "eyJhbGciOiJIUzI1NiJ9.e30.AAA+",
    raw("not json", "{}"),
    raw("[1]", "{}"),
    raw(HS256, "[]"),
    raw(HS256, "null"),
    raw(HS256, '{"exp":NaN}'),
    raw('{"alg":"HS256","alg":"none"}', "{}"),
    raw(HS256, '{"sub":"alice","sub":"root"}'),
    raw('{"alg":"HS256","crit":["b64"]}', "{}"),
    b64url(b"\xff\xfe") + ".e30.AAAA",
    raw(HS256, "{}", signature="AB"),
    raw(HS256, "{}", signature="A"),
    raw(HS256, "{}", signature="A" * 2000),
]


@pytest.mark.parametrize("token", MALFORMED)
async def test_malformed_tokens_are_refused(verifier: DevTokenVerifier, token: str) -> None:
    assert await rejection(verifier, token) == "malformed"


async def test_an_unencoded_payload_is_refused(verifier: DevTokenVerifier, key: bytes) -> None:
    # RFC 7797 (`b64: false`), which joserfc can read: the payload signed as it stands.
    header = json_segment({"alg": "HS256", "b64": False, "crit": ["b64"]})
    signing_input = f"{header}.1234567890"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    assert await rejection(verifier, f"{signing_input}.{b64url(signature)}") == "malformed"


@pytest.mark.parametrize("user_id", ["", "a" * 65, "al ice", "ålice", "a.b", "a\n"])
def test_mint_refuses_user_ids_outside_the_alphabet(key_path: Path, user_id: str) -> None:
    with pytest.raises(ValueError, match="user id"):
        mint_dev_token(key_path, user_id)


def test_mint_refuses_a_non_positive_lifetime(key_path: Path) -> None:
    with pytest.raises(ValueError, match="ttl"):
        mint_dev_token(key_path, "alice", ttl=timedelta(0))


@pytest.fixture(scope="module")
def shared_key_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return key_path_in(tmp_path_factory.mktemp("var"))


@given(user_id=st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True), admin=st.booleans())
async def test_any_valid_user_id_round_trips(
    shared_key_path: Path, user_id: str, admin: bool
) -> None:
    token = mint_dev_token(shared_key_path, user_id, admin=admin, clock=FakeClock(NOW))
    viewer = await DevTokenVerifier(shared_key_path, FakeClock(NOW)).verify(token)
    assert viewer == Viewer(user_id, "dev", is_admin=admin)


@given(token=st.text(max_size=200) | st.from_regex(r"[A-Za-z0-9_.-]{0,120}", fullmatch=True))
async def test_arbitrary_input_is_only_ever_refused(shared_key_path: Path, token: str) -> None:
    with pytest.raises(InvalidToken):
        await DevTokenVerifier(shared_key_path, FakeClock(NOW)).verify(token)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run(
        [sys.executable, "-m", "auth.dev_tokens", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


async def test_cli_prints_a_token_the_verifier_accepts(tmp_path: Path) -> None:
    result = run_cli("alice", "--admin", "--var", str(tmp_path / "var"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    token = result.stdout.strip()
    verifier = DevTokenVerifier(key_path_in(tmp_path / "var"))
    assert await verifier.verify(token) == Viewer("alice", "dev", is_admin=True)
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert payload["exp"] - payload["iat"] == 30 * 24 * 3600


def test_cli_refuses_a_bad_user_id(tmp_path: Path) -> None:
    result = run_cli("not a user", "--var", str(tmp_path / "var"))
    assert result.returncode == 2
    assert "USER must match" in result.stderr
    assert not (tmp_path / "var").exists()
