"""Inputs and payloads of the profile mutations."""

from __future__ import annotations

import strawberry

from resolvers import accounts, users
from resolvers.mutations import Outcome
from schema.info import Info
from schema.user import User
from schema.user_error import UserError, user_errors

IDEMPOTENCY_HELP = (
    "Any string up to 128 characters, new for each user action; a retry with the same "
    "key and input within 24 hours returns the first result and changes nothing."
)


@strawberry.input
class CreateProfileInput:
    username: str
    display_name: str
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_HELP)


@strawberry.input
class UpdateProfileInput:
    username: str | None = None
    display_name: str | None = None
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_HELP)


@strawberry.type
class ProfilePayload:
    user: User | None
    errors: list[UserError]


async def profile_payload(info: Info, outcome: Outcome) -> ProfilePayload:
    user = None
    if outcome.key is not None:
        # Read after the commit: a replayed outcome returns the profile as it is now.
        model = await users.user_by_id(info.context, outcome.key.name)
        user = User.from_model(model) if model else None
    return ProfilePayload(user=user, errors=user_errors(outcome))


async def create_profile(info: Info, input: CreateProfileInput) -> ProfilePayload:
    outcome = await accounts.create_profile(
        info.context, input.username, input.display_name, input.idempotency_key
    )
    return await profile_payload(info, outcome)


async def update_profile(info: Info, input: UpdateProfileInput) -> ProfilePayload:
    outcome = await accounts.update_profile(
        info.context, input.username, input.display_name, input.idempotency_key
    )
    return await profile_payload(info, outcome)
