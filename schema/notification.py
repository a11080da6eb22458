"""The Notification type."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers import notifications
from resolvers.models import RECENT_ACTORS
from resolvers.models import Notification as NotificationModel
from resolvers.node_ids import to_global_id
from schema.info import Info
from schema.late import object_type
from schema.node import Node

if TYPE_CHECKING:
    from schema.photo import Photo
    from schema.user import User


@strawberry.enum
class NotificationKind(Enum):
    FOLLOW = "FOLLOW"
    LIKE = "LIKE"
    COMMENT = "COMMENT"
    NEW_PHOTO = "NEW_PHOTO"


@strawberry.type(description="Something that happened to the viewer; repeats coalesce.")
class Notification(Node):
    kind: NotificationKind
    actor_count: int = strawberry.field(description="Everyone who did it, not only `actors`.")
    unread: bool
    updated_at: datetime
    model: strawberry.Private[NotificationModel]

    @classmethod
    def from_model(cls, notice: NotificationModel) -> Notification:
        assert notice.updated_at is not None
        return cls(
            id=strawberry.ID(to_global_id("Notification", notice.key)),
            kind=NotificationKind(notice.kind),
            actor_count=notice.actor_count,
            unread=notice.unread,
            updated_at=notice.updated_at,
            model=notice,
        )

    @strawberry.field(description=f"The {RECENT_ACTORS} most recent actors, newest first.")
    async def actors(self, info: Info) -> list[Annotated[User, strawberry.lazy("schema.user")]]:
        user_type: type[User] = object_type("schema.user", "User")
        actors = await notifications.recent_actors(info.context, self.model)
        return [user_type.from_model(user) for user in actors]

    @strawberry.field(description="The photo it is about, if any (null once deleted).")
    async def photo(self, info: Info) -> Annotated[Photo, strawberry.lazy("schema.photo")] | None:
        photo_type: type[Photo] = object_type("schema.photo", "Photo")
        photo = await notifications.subject_photo(info.context, self.model)
        return photo_type.from_model(photo) if photo is not None else None

    @strawberry.field(description='Ready to show, e.g. "alice and 4 others liked your photo".')
    async def message(self, info: Info) -> str:
        actors = await notifications.recent_actors(info.context, self.model)
        return notifications.message(self.model, actors[0].username if actors else None)
