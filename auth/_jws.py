"""Compact JWS (`header.payload.signature`) parsing and claim checks shared by the verifiers.

Parsing is strict on purpose: canonical unpadded base64url only, JSON objects only,
no duplicate members, no NaN/Infinity, and no `crit` extensions we do not understand.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from auth.errors import InvalidToken

_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")


@dataclass(frozen=True, slots=True)
class CompactToken:
    header: Mapping[str, object]
    claims: Mapping[str, object]
    signing_input: bytes
    signature: bytes


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def encode_json_segment(value: Mapping[str, object]) -> str:
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, allow_nan=False)
    return b64url_encode(text.encode("utf-8"))


def parse_compact(token: str, *, max_length: int) -> CompactToken:
    if not isinstance(token, str) or not token:
        raise InvalidToken("malformed", "empty token")
    if len(token) > max_length:
        raise InvalidToken("malformed", "token too long")
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("malformed", "expected three dot-separated segments")
    encoded_header, encoded_claims, encoded_signature = parts
    header = _json_object(_b64url_decode(encoded_header), "header")
    claims = _json_object(_b64url_decode(encoded_claims), "payload")
    if "crit" in header:
        raise InvalidToken("malformed", "critical header extensions are not supported")
    return CompactToken(
        header=header,
        claims=claims,
        signing_input=f"{encoded_header}.{encoded_claims}".encode("ascii"),
        signature=_b64url_decode(encoded_signature),
    )


def check_lifetime(
    claims: Mapping[str, object],
    *,
    now: float,
    leeway: float,
    issued_claims: tuple[str, ...] = ("iat",),
) -> None:
    """Require `exp` and `issued_claims` (all in the past); honour `nbf` when present."""
    expires = _numeric_date(claims, "exp")
    if expires is None:
        raise InvalidToken("malformed", "missing exp")
    for name in issued_claims:
        issued = _numeric_date(claims, name)
        if issued is None:
            raise InvalidToken("malformed", f"missing {name}")
        if issued > now + leeway:
            raise InvalidToken("not_yet_valid", f"{name} is in the future")
    not_before = _numeric_date(claims, "nbf")
    if not_before is not None and not_before > now + leeway:
        raise InvalidToken("not_yet_valid", "nbf is in the future")
    if now >= expires + leeway:
        raise InvalidToken("expired")


def _b64url_decode(segment: str) -> bytes:
    if not _SEGMENT.fullmatch(segment) or len(segment) % 4 == 1:
        raise InvalidToken("malformed", "segment is not base64url")
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken("malformed", "segment is not base64url") from exc
    if b64url_encode(data) != segment:
        raise InvalidToken("malformed", "segment is not canonical base64url")
    return data


def _json_object(data: bytes, what: str) -> dict[str, object]:
    try:
        value = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_reject_duplicates,
            parse_constant=_reject_constant,
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidToken("malformed", f"{what} is not JSON") from exc
    if not isinstance(value, dict):
        raise InvalidToken("malformed", f"{what} is not a JSON object")
    return value


def _reject_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member")
    return result


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not allowed")


def _numeric_date(claims: Mapping[str, object], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidToken("malformed", f"{name} is not a number")
    try:
        seconds = float(value)
    except OverflowError as exc:
        raise InvalidToken("malformed", f"{name} is out of range") from exc
    if not math.isfinite(seconds):
        raise InvalidToken("malformed", f"{name} is not finite")
    return seconds
