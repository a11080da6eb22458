"""The Notification type."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers.node_ids import to_global_id
from schema.info import Info
from schema.node import Node
from store import models
from store.keys import Key
from store.notification_models import RECENT_ACTORS
from store.notification_models import Notification as NotificationModel
from store.notification_text import notification_message

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
        from schema.user import User

        keys = [models.user_key(a) for a in self.model.actor_ids[:RECENT_ACTORS]]
        found = await info.context.loaders.many(keys)
        return [User.from_model(models.user_from_entity(e)) for e in found if e is not None]

    @strawberry.field(description="The photo it is about, if any (null once deleted).")
    async def photo(self, info: Info) -> Annotated[Photo, strawberry.lazy("schema.photo")] | None:
        from schema.photo import Photo

        if not self.model.subject:
            return None
        entity = await info.context.loaders.entity(Key.decode(self.model.subject))
        return Photo.from_model(models.photo_from_entity(entity)) if entity else None

    @strawberry.field(description='Ready to show, e.g. "alice and 4 others liked your photo".')
    async def message(self, info: Info) -> str:
        actors = await self.actors(info)
        first = actors[0].username if actors else None
        return notification_message(self.model.kind, first, self.model.actor_count)
