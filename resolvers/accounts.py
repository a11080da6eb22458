"""Creating and changing a profile.

A username is claimed by writing its own root entity (`Username/<lower-cased
name>`) in the same cross-group transaction as the User, so two sign-ups racing
for one name cannot both win: on Datastore one commit fails and its retry sees
the claim; on SQLite the transactions run one after the other.

Both also record the verified e-mail address of the sign-in, if any
(resolvers/email_preferences.py), in the same transaction.
"""

from __future__ import annotations

from resolvers.context import RequestContext
from resolvers.email_preferences import record_address
from resolvers.mutations import Outcome, run_mutation
from resolvers.profile_rules import DISPLAY_NAME_MAX, clean_display_name, username_problem
from resolvers.user_errors import UserErrorCode
from store import models
from store.email_models import email_settings_key
from store.port import Entity, Transaction

_BAD_DISPLAY_NAME = (
    f"Display names are 1 to {DISPLAY_NAME_MAX} characters, without control characters."
)


async def create_profile(
    context: RequestContext, username: str, display_name: str, idempotency_key: str | None
) -> Outcome:
    viewer = context.require_viewer()
    problem = username_problem(username)
    if problem:
        return Outcome.failed(*problem, "username")
    cleaned = clean_display_name(display_name)
    if cleaned is None:
        return Outcome.failed(UserErrorCode.INVALID_INPUT, _BAD_DISPLAY_NAME, "displayName")
    user = models.User(viewer.user_id, username, cleaned, context.clock())

    async def effect(tx: Transaction, found: list[Entity | None]) -> Outcome:
        existing_user, claim, email_settings = found
        if existing_user is not None:
            return Outcome.failed(
                UserErrorCode.PROFILE_EXISTS, "You already have a profile; use updateProfile.", None
            )
        if claim is not None:
            return Outcome.failed(
                UserErrorCode.USERNAME_TAKEN, "That username is taken.", "username"
            )
        tx.put_many([models.user_to_entity(user), models.username_claim(user)])
        record_address(tx, viewer, email_settings, context.clock())
        return Outcome(key=user.key)

    return await run_mutation(
        context,
        viewer_id=viewer.user_id,
        name="createProfile",
        arguments={"username": username, "displayName": display_name},
        idempotency_key=idempotency_key,
        reads=[user.key, models.username_key(username), email_settings_key(viewer.user_id)],
        effect=effect,
    )


async def update_profile(
    context: RequestContext,
    username: str | None,
    display_name: str | None,
    idempotency_key: str | None,
) -> Outcome:
    viewer = context.require_viewer()
    if username is not None and (problem := username_problem(username)):
        return Outcome.failed(*problem, "username")
    cleaned = clean_display_name(display_name) if display_name is not None else None
    if display_name is not None and cleaned is None:
        return Outcome.failed(UserErrorCode.INVALID_INPUT, _BAD_DISPLAY_NAME, "displayName")
    user_key = models.user_key(viewer.user_id)
    new_claim_key = models.username_key(username) if username is not None else None

    async def effect(tx: Transaction, found: list[Entity | None]) -> Outcome:
        current_entity, email_settings = found[0], found[1]
        new_claim = found[2] if new_claim_key else None
        if current_entity is None:
            return Outcome.profile_missing()
        current = models.user_from_entity(current_entity)
        updated = models.User(
            current.id,
            username if username is not None else current.username,
            cleaned if cleaned is not None else current.display_name,
            current.created_at,
        )
        renamed = updated.username.lower() != current.username.lower()
        if renamed:
            claimed_by = new_claim.properties.get("user_id") if new_claim else None
            if claimed_by not in (None, current.id):
                return Outcome.failed(
                    UserErrorCode.USERNAME_TAKEN, "That username is taken.", "username"
                )
            tx.delete_many([models.username_key(current.username)])
        tx.put_many([models.user_to_entity(updated), models.username_claim(updated)])
        record_address(tx, viewer, email_settings, context.clock())
        return Outcome(key=updated.key)

    return await run_mutation(
        context,
        viewer_id=viewer.user_id,
        name="updateProfile",
        arguments={"username": username, "displayName": display_name},
        idempotency_key=idempotency_key,
        reads=[
            user_key,
            email_settings_key(viewer.user_id),
            *([new_claim_key] if new_claim_key else []),
        ],
        effect=effect,
    )
