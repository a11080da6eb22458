"""The Comment type."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers import models, users
from resolvers.node_ids import to_global_id
from schema.info import Info
from schema.late import object_type
from schema.node import Node

if TYPE_CHECKING:
    from schema.user import User


@strawberry.type(description="A comment on a photo.")
class Comment(Node):
    text: str
    created_at: datetime
    model: strawberry.Private[models.Comment]

    @classmethod
    def from_model(cls, comment: models.Comment) -> Comment:
        return cls(
            id=strawberry.ID(to_global_id("Comment", comment.key)),
            text=comment.text,
            created_at=comment.created_at,
            model=comment,
        )

    @strawberry.field(description="Who wrote it; null if they have left.")
    async def author(self, info: Info) -> Annotated[User, strawberry.lazy("schema.user")] | None:
        user_type: type[User] = object_type("schema.user", "User")
        user = await users.user_by_id(info.context, self.model.author_id)
        return user_type.from_model(user) if user else None
