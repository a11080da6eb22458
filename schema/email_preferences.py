"""EmailPreferences (on Viewer) and updateEmailPreferences."""

from __future__ import annotations

import strawberry

from resolvers import email_preferences
from resolvers.models import EmailPreferences as EmailPreferencesModel
from schema.info import Info
from schema.profile import IDEMPOTENCY_HELP
from schema.user_error import UserError, user_errors


@strawberry.type(
    description="Which e-mails the viewer gets, and where. Every e-mail also carries a "
    "one-click unsubscribe link."
)
class EmailPreferences:
    address: str | None = strawberry.field(
        description="The verified address of the viewer's sign-in, recorded when they last "
        "created or updated their profile or these preferences; null when their sign-in "
        "has no verified address (then nothing is sent)."
    )
    digest: bool = strawberry.field(
        description="A daily e-mail when notifications are unread and no push reached the "
        "viewer that day (on unless turned off)."
    )
    new_follower: bool = strawberry.field(
        description="An e-mail when someone new follows the viewer (off unless turned on)."
    )

    @classmethod
    def from_model(cls, model: EmailPreferencesModel) -> EmailPreferences:
        return cls(address=model.address, digest=model.digest, new_follower=model.new_follower)


@strawberry.input
class UpdateEmailPreferencesInput:
    digest: bool | None = strawberry.field(default=None, description="Null leaves it as it is.")
    new_follower: bool | None = strawberry.field(
        default=None, description="Null leaves it as it is."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_HELP)


@strawberry.type
class UpdateEmailPreferencesPayload:
    preferences: EmailPreferences | None
    errors: list[UserError]


async def update_email_preferences(
    info: Info, input: UpdateEmailPreferencesInput
) -> UpdateEmailPreferencesPayload:
    outcome = await email_preferences.update_email_preferences(
        info.context, input.digest, input.new_follower, input.idempotency_key
    )
    errors = user_errors(outcome)
    if errors:
        return UpdateEmailPreferencesPayload(preferences=None, errors=errors)
    # Read after the commit: a replayed outcome shows the preferences as they are now.
    current = await email_preferences.viewer_preferences(info.context)
    return UpdateEmailPreferencesPayload(
        preferences=EmailPreferences.from_model(current), errors=[]
    )
