"""Signed JWTs, read and checked on joserfc: the one path every verifier takes.

joserfc parses the compact form (canonical unpadded base64url only), checks `crit`,
the signature under the one algorithm a verifier allows, and the lifetime claims
against the verifier's clock. Two rules are ours, on top of it:

- the header and the claims must be I-JSON (RFC 7493): no duplicate member names (a
  parser that keeps the last of two `alg`s or `sub`s is how confusion starts), no NaN
  or Infinity, no number beyond a double's range;
- the whole token is read before any key is fetched or signature checked, so a
  malformed token is `malformed` whatever it is signed with, and costs no fetch.

Verifiers check the claims that say who the token is for (`aud`, `iss`, `sub`)
themselves, each with its own `InvalidToken` reason.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

from joserfc import jws
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError
from joserfc.jwk import Key, OctKey, RSAKey
from joserfc.jwt import ClaimsOption, JWTClaimsRegistry
from joserfc.registry import check_crit_header
from joserfc.util import urlsafe_b64decode

from auth.errors import InvalidToken
from clock import Clock

__all__ = ["SignedToken", "check_lifetime", "hmac_key", "read_token", "rsa_key"]


@dataclass(frozen=True, slots=True)
class SignedToken:
    header: Mapping[str, object]
    claims: Mapping[str, object]
    _compact: jws.CompactSignature

    def check_signature(self, key: Key, algorithm: str) -> None:
        """`unsupported_algorithm` unless the header names `algorithm`; then the signature."""
        if self.header.get("alg") != algorithm:
            raise InvalidToken("unsupported_algorithm")
        try:
            valid = jws.validate_compact(self._compact, key, registry=_allowing(algorithm))
        except JoseError as error:
            raise InvalidToken("malformed", str(error)) from error
        if not valid:
            raise InvalidToken("bad_signature")


@functools.cache
def _allowing(algorithm: str) -> jws.JWSRegistry:
    """joserfc's registry that admits `algorithm` alone; header members it does not
    know are allowed (Google may add some), `crit` ones are not (read_token)."""
    return jws.JWSRegistry(algorithms=[algorithm], strict_check_header=False)


def read_token(token: str, *, max_length: int) -> SignedToken:
    """Parse a compact JWS, or raise `InvalidToken("malformed")` saying what is wrong."""
    if not isinstance(token, str) or not token:
        raise InvalidToken("malformed", "empty token")
    if len(token) > max_length:
        raise InvalidToken("malformed", "token too long")
    try:
        compact = jws.extract_compact(token.encode("ascii"))
        segments = compact.segments
        header = _i_json(urlsafe_b64decode(segments["header"]), "header")
        claims = _i_json(compact.payload, "payload")
        urlsafe_b64decode(segments["signature"])  # canonical, as the other two segments
        check_crit_header({}, header)  # we understand no extension, so none may be critical
    except (JoseError, ValueError, TypeError, RecursionError) as error:
        raise InvalidToken("malformed", str(error) or type(error).__name__) from error
    return SignedToken(header, claims, compact)


def check_lifetime(
    claims: Mapping[str, object],
    *,
    clock: Clock,
    leeway_seconds: int,
    required: tuple[str, ...] = ("exp", "iat"),
) -> None:
    """Require the `required` claims; `exp` in the future, `nbf`, `iat` and
    `auth_time` (those present) not, each give or take `leeway_seconds`."""
    registry = _Lifetime(clock, leeway_seconds, required)
    try:
        registry.validate({name: claims[name] for name in _TIME_CLAIMS if name in claims})
    except ExpiredTokenError as error:
        raise InvalidToken("expired") from error
    except MissingClaimError as error:
        raise InvalidToken("malformed", f"missing {error.claim}") from error
    except InvalidClaimError as error:
        # A number that is a date fails only by lying ahead; anything else is no date.
        if _is_numeric_date(claims.get(error.claim)):
            raise InvalidToken("not_yet_valid", f"{error.claim} is in the future") from error
        raise InvalidToken("malformed", f"{error.claim} is not a NumericDate") from error


def hmac_key(secret: bytes) -> Key:
    return OctKey.import_key(secret)


def rsa_key(certificate_pem: str) -> Key:
    """The public key of an X.509 certificate in PEM, as Google publishes them."""
    return RSAKey.import_key(certificate_pem)


_TIME_CLAIMS = ("exp", "nbf", "iat", "auth_time")


class _Lifetime(JWTClaimsRegistry):
    """joserfc's time checks against our clock; `auth_time` (Firebase) is checked as `iat`."""

    def __init__(self, clock: Clock, leeway_seconds: int, required: tuple[str, ...]) -> None:
        super().__init__(
            now=lambda: int(clock().timestamp()),
            leeway=leeway_seconds,
            **{name: ClaimsOption(essential=True) for name in required},
        )

    def validate_auth_time(self, value: object) -> None:
        try:
            self.validate_iat(value)
        except InvalidClaimError as error:
            raise InvalidClaimError("auth_time", error.description) from error


def _is_numeric_date(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float)


def _i_json(data: bytes, what: str) -> dict[str, object]:
    value = json.loads(
        data.decode("utf-8"),
        object_pairs_hook=_refuse_duplicates,
        parse_constant=_refuse_constant,
        parse_int=_int,
        parse_float=_float,
    )
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not a JSON object")
    return value


def _refuse_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    members = dict(pairs)
    if len(members) != len(pairs):
        raise ValueError("duplicate member name")
    return members


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _int(text: str) -> int:
    if not math.isfinite(float(text)):
        raise ValueError("number out of range")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value
