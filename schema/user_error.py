"""Typed, expected mutation failures, returned in payloads (never raised)."""

from __future__ import annotations

import strawberry

from resolvers.mutations import Outcome
from resolvers.user_errors import UserError as UserErrorModel
from resolvers.user_errors import UserErrorCode

# The resolvers' own enum, so that a code is checked from where it is raised to here.
strawberry.enum(UserErrorCode, description="Stable codes for expected mutation failures.")


@strawberry.type(description="Why a mutation did nothing; `field` names the input at fault.")
class UserError:
    code: UserErrorCode
    message: str
    field: str | None

    @classmethod
    def from_model(cls, error: UserErrorModel) -> UserError:
        return cls(code=error.code, message=error.message, field=error.field)


def user_errors(outcome: Outcome) -> list[UserError]:
    return [UserError.from_model(error) for error in outcome.errors]


__all__ = ["UserError", "UserErrorCode", "user_errors"]
