"""The viewer's e-mail preferences and the verified address they go to.

The address is never an argument: it is the `email` of the viewer's sign-in,
which the verifiers report only when the provider says it is verified (auth/).
It is recorded whenever the viewer creates or updates their profile or their
e-mail preferences; a sign-in without a verified address clears it, so e-mail
stops rather than going to an address nobody vouches for any more.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from auth.viewer import Viewer
from resolvers.context import RequestContext
from resolvers.mutations import Outcome, run_mutation
from resolvers.user_errors import UserErrorCode
from store import models
from store.email_models import (
    EmailPreferences,
    email_settings_key,
    preferences_from_entity,
    preferences_to_entity,
)
from store.port import Entity, Transaction

_UNVERIFIED = (
    "E-mail needs a verified address: verify your e-mail address with your sign-in "
    "provider, sign in again, then turn e-mail on."
)


async def viewer_preferences(context: RequestContext) -> EmailPreferences:
    viewer = context.require_viewer()
    return preferences_from_entity(await context.loaders.entity(email_settings_key(viewer.user_id)))


def record_address(tx: Transaction, viewer: Viewer, current: Entity | None, now: datetime) -> None:
    """Within a mutation of the viewer's: the address on file becomes the one this
    sign-in vouches for (or none), written only when it changes."""
    preferences = preferences_from_entity(current)
    if preferences.address != viewer.email:
        updated = replace(preferences, address=viewer.email)
        tx.put_many([preferences_to_entity(viewer.user_id, updated, now)])


async def update_email_preferences(
    context: RequestContext,
    digest: bool | None,
    new_follower: bool | None,
    idempotency_key: str | None,
) -> Outcome:
    viewer = context.require_viewer()
    key = email_settings_key(viewer.user_id)
    turning_on = digest is True or new_follower is True

    async def effect(tx: Transaction, found: list[Entity | None]) -> Outcome:
        me, current_entity = found
        if me is None:
            return Outcome.profile_missing()
        if turning_on and viewer.email is None:
            return Outcome.failed(UserErrorCode.EMAIL_NOT_VERIFIED, _UNVERIFIED, None)
        current = preferences_from_entity(current_entity)
        updated = EmailPreferences(
            address=viewer.email,
            digest=current.digest if digest is None else digest,
            new_follower=current.new_follower if new_follower is None else new_follower,
        )
        tx.put_many([preferences_to_entity(viewer.user_id, updated, context.clock())])
        return Outcome(key=key)

    return await run_mutation(
        context,
        viewer_id=viewer.user_id,
        name="updateEmailPreferences",
        arguments={"digest": digest, "newFollower": new_follower},
        idempotency_key=idempotency_key,
        reads=[models.user_key(viewer.user_id), key],
        effect=effect,
    )
