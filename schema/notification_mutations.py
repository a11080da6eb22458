"""markNotificationsRead: naturally idempotent, so a retry answers the same."""

from __future__ import annotations

import strawberry

from resolvers import notifications
from resolvers.models import NOTIFICATION
from resolvers.mutations import check_idempotency_key
from resolvers.node_ids import expect_global_id
from schema.info import Info
from schema.profile import IDEMPOTENCY_HELP
from schema.user_error import UserError, UserErrorCode


@strawberry.input
class MarkNotificationsReadInput:
    up_to: strawberry.ID | None = strawberry.field(
        default=None,
        description="Mark this notification and every older one read; all when omitted.",
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_HELP)


@strawberry.type
class MarkNotificationsReadPayload:
    unread_notification_count: int | None
    errors: list[UserError]


async def mark_notifications_read(
    info: Info, input: MarkNotificationsReadInput
) -> MarkNotificationsReadPayload:
    info.context.require_viewer()
    check_idempotency_key(input.idempotency_key)  # validated like every mutation's
    up_to = None if input.up_to is None else expect_global_id(input.up_to, NOTIFICATION, "upTo")
    if await notifications.mark_read_through(info.context, up_to) is None:
        error = UserError(
            code=UserErrorCode.NOT_FOUND, message="No such notification.", field="upTo"
        )
        return MarkNotificationsReadPayload(unread_notification_count=None, errors=[error])
    count = await notifications.unread_count(info.context)
    return MarkNotificationsReadPayload(unread_notification_count=count, errors=[])
