"""The expected failures of mutations: a typed code, a message, the input at fault.

Resolvers return them in an Outcome (resolvers/mutations.py); schema/user_error.py
exposes the codes as the GraphQL enum `UserErrorCode` unchanged, so a misspelt
code is a mypy error rather than a failure at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class UserErrorCode(Enum):
    INVALID_INPUT = "INVALID_INPUT"
    USERNAME_TAKEN = "USERNAME_TAKEN"
    USERNAME_RESERVED = "USERNAME_RESERVED"
    PROFILE_EXISTS = "PROFILE_EXISTS"
    PROFILE_MISSING = "PROFILE_MISSING"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    NOT_ALLOWED = "NOT_ALLOWED"
    NOT_FOUND = "NOT_FOUND"
    # updateEmailPreferences: the sign-in has no verified e-mail address.
    EMAIL_NOT_VERIFIED = "EMAIL_NOT_VERIFIED"
    # createPhoto's image (media/errors.py says when each applies).
    EMPTY_IMAGE = "EMPTY_IMAGE"
    IMAGE_TOO_LARGE = "IMAGE_TOO_LARGE"
    UNSUPPORTED_IMAGE = "UNSUPPORTED_IMAGE"
    TOO_MANY_PIXELS = "TOO_MANY_PIXELS"
    CORRUPT_IMAGE = "CORRUPT_IMAGE"


@dataclass(frozen=True)
class UserError:
    code: UserErrorCode
    message: str
    field: str | None = None
