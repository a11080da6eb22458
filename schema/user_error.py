"""Typed, expected mutation failures, returned in payloads (never raised)."""

from __future__ import annotations

from enum import Enum

import strawberry

from resolvers.mutations import UserError as UserErrorModel


@strawberry.enum(description="Stable codes for expected mutation failures.")
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


@strawberry.type(description="Why a mutation did nothing; `field` names the input at fault.")
class UserError:
    code: UserErrorCode
    message: str
    field: str | None

    @classmethod
    def from_model(cls, error: UserErrorModel) -> UserError:
        return cls(code=UserErrorCode(error.code), message=error.message, field=error.field)
