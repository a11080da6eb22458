"""The root Mutation type. Conventions: docs/MUTATIONS.md."""

from __future__ import annotations

import strawberry

from schema import profile


@strawberry.type
class Mutation:
    create_profile: profile.ProfilePayload = strawberry.mutation(
        resolver=profile.create_profile,
        description="Claim a username and create the signed-in user's profile.",
    )
    update_profile: profile.ProfilePayload = strawberry.mutation(
        resolver=profile.update_profile,
        description="Change the signed-in user's username or display name.",
    )
