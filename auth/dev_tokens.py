"""Dev tokens: HS256-signed compact tokens for local development only.

The signing key is 32 random bytes in `<var_dir>/dev-token.key`, created (mode 0600)
the first time anything mints or verifies a token. Mint one from a shell with

    python -m auth.dev_tokens alice [--admin] [--email alice@example.com] [--var var]

`--email` puts a verified address in the token (`email`, `email_verified: true`, as
Firebase does once a user proved the address), so e-mail can be tried locally.

Settings refuse dev tokens in production; nothing here is meant to face the internet.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TypeAlias

from joserfc import jwt

from auth.errors import InvalidToken
from auth.jwt_checks import check_lifetime, hmac_key, read_token
from auth.viewer import Viewer
from clock import Clock, system_clock

__all__ = [
    "DEFAULT_TTL",
    "ISSUER",
    "KEY_FILENAME",
    "DevTokenVerifier",
    "key_path_in",
    "load_or_create_key",
    "main",
    "mint_dev_token",
]

ISSUER = "photo-timeline-dev"
KEY_FILENAME = "dev-token.key"
DEFAULT_TTL = timedelta(days=30)

_KEY_BYTES = 32
_USER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ALGORITHM = "HS256"
_MAX_TOKEN_LENGTH = 1024
_LEEWAY_SECONDS = 5

KeyPath: TypeAlias = str | os.PathLike[str]


def key_path_in(var_dir: KeyPath) -> Path:
    return Path(var_dir) / KEY_FILENAME


def load_or_create_key(key_path: KeyPath) -> bytes:
    """Read the signing key, creating it with mode 0600 if it does not exist yet."""
    path = Path(key_path)
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(_KEY_BYTES)
    # Written aside and hard-linked into place, so a concurrent reader never sees a
    # half-written key and a concurrent creator loses the race instead of overwriting.
    scratch = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(key)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(scratch, path)
        except FileExistsError:
            return _read_key(path)
    finally:
        scratch.unlink(missing_ok=True)
    return key


def mint_dev_token(
    key_path: KeyPath,
    user_id: str,
    ttl: timedelta = DEFAULT_TTL,
    admin: bool = False,
    *,
    email: str | None = None,
    clock: Clock = system_clock,
) -> str:
    if not _USER_ID.fullmatch(user_id):
        raise ValueError(f"user id must match {_USER_ID.pattern}: {user_id!r}")
    if ttl <= timedelta(0):
        raise ValueError(f"ttl must be positive: {ttl}")
    key = load_or_create_key(key_path)
    issued_at = int(clock().timestamp())
    claims: dict[str, object] = {
        "iss": ISSUER,
        "sub": user_id,
        "iat": issued_at,
        "exp": issued_at + int(ttl.total_seconds()),
    }
    if admin:
        claims["admin"] = True
    if email is not None:
        claims["email"], claims["email_verified"] = email, True
    return jwt.encode({"alg": _ALGORITHM}, claims, hmac_key(key), algorithms=[_ALGORITHM])


class DevTokenVerifier:
    """Verifies tokens from `mint_dev_token` against the key at `key_path`."""

    def __init__(self, key_path: KeyPath, clock: Clock = system_clock) -> None:
        self._key = hmac_key(load_or_create_key(key_path))
        self._clock = clock

    async def verify(self, token: str) -> Viewer:
        parsed = read_token(token, max_length=_MAX_TOKEN_LENGTH)
        parsed.check_signature(self._key, _ALGORITHM)
        claims = parsed.claims
        if claims.get("iss") != ISSUER:
            raise InvalidToken("wrong_issuer")
        subject = claims.get("sub")
        if subject is None or subject == "":
            raise InvalidToken("missing_subject")
        if not isinstance(subject, str) or not _USER_ID.fullmatch(subject):
            raise InvalidToken("invalid_subject")
        check_lifetime(claims, clock=self._clock, leeway_seconds=_LEEWAY_SECONDS)
        email = claims.get("email")
        return Viewer(
            user_id=subject,
            provider="dev",
            # As for Firebase tokens: an address only when the token says it is verified.
            email=email
            if isinstance(email, str) and claims.get("email_verified") is True
            else None,
            is_admin=claims.get("admin") is True,
        )


def _read_key(path: Path) -> bytes:
    key = path.read_bytes()
    if len(key) != _KEY_BYTES:
        raise ValueError(f"{path} is not a dev token key (expected {_KEY_BYTES} bytes)")
    return key


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m auth.dev_tokens",
        description="Print a development bearer token for USER (local use only).",
    )
    parser.add_argument("user", metavar="USER", help="user id, [A-Za-z0-9_-]{1,64}")
    parser.add_argument("--admin", action="store_true", help="grant the admin claim")
    parser.add_argument("--email", help="a verified e-mail address for the token")
    parser.add_argument("--var", default="var", help="directory holding dev-token.key")
    parser.add_argument("--ttl-days", type=int, default=DEFAULT_TTL.days, help="lifetime")
    args = parser.parse_args(argv)
    if not _USER_ID.fullmatch(args.user):
        parser.error(f"USER must match {_USER_ID.pattern}")
    if args.ttl_days <= 0:
        parser.error("--ttl-days must be positive")
    token = mint_dev_token(
        key_path_in(args.var),
        args.user,
        timedelta(days=args.ttl_days),
        admin=args.admin,
        email=args.email,
    )
    sys.stdout.write(token + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
