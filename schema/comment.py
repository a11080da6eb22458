"""The Comment type."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers.node_ids import to_global_id
from schema.info import Info
from schema.node import Node
from store import social_models

if TYPE_CHECKING:
    from schema.user import User


@strawberry.type(description="A comment on a photo.")
class Comment(Node):
    text: str
    created_at: datetime
    model: strawberry.Private[social_models.Comment]

    @classmethod
    def from_model(cls, comment: social_models.Comment) -> Comment:
        return cls(
            id=strawberry.ID(to_global_id("Comment", comment.key)),
            text=comment.text,
            created_at=comment.created_at,
            model=comment,
        )

    @strawberry.field(description="Who wrote it; null if they have left.")
    async def author(self, info: Info) -> Annotated[User, strawberry.lazy("schema.user")] | None:
        from schema.user import User

        user = await info.context.loaders.user(self.model.author_id)
        return User.from_model(user) if user else None
