"""markNotificationsRead: naturally idempotent, so a retry answers the same."""

from __future__ import annotations

import strawberry

from resolvers import notifications
from resolvers.mutations import check_idempotency_key
from resolvers.node_ids import expect_global_id
from schema.info import Info
from schema.profile import IDEMPOTENCY_HELP
from schema.user_error import UserError, UserErrorCode
from store.notification_models import NOTIFICATION


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
    up_to = None
    if input.up_to is not None:
        key = expect_global_id(input.up_to, NOTIFICATION, "upTo")
        viewer = info.context.require_viewer()
        entity = await info.context.loaders.entity(key)
        owner = key.parent
        if entity is None or owner is None or owner.name != viewer.user_id:
            error = UserError(
                code=UserErrorCode.NOT_FOUND, message="No such notification.", field="upTo"
            )
            return MarkNotificationsReadPayload(unread_notification_count=None, errors=[error])
        up_to = str(entity.properties["sort_key"])
    await notifications.mark_read(info.context, up_to)
    count = await notifications.unread_count(info.context)
    return MarkNotificationsReadPayload(unread_notification_count=count, errors=[])
