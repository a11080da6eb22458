"""The Photo type."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers.node_ids import to_global_id
from schema.info import Info
from schema.node import Node
from store import models

if TYPE_CHECKING:
    from schema.user import User


@strawberry.type(description="A photo and its caption, in its owner's entity group.")
class Photo(Node):
    caption: str
    created_at: datetime
    model: strawberry.Private[models.Photo]

    @classmethod
    def from_model(cls, photo: models.Photo) -> Photo:
        return cls(
            id=strawberry.ID(to_global_id("Photo", photo.key)),
            caption=photo.caption,
            created_at=photo.created_at,
            model=photo,
        )

    @strawberry.field(description="Who posted it.")
    async def owner(self, info: Info) -> Annotated[User, strawberry.lazy("schema.user")]:
        from schema.user import User

        user = await info.context.loaders.user(self.model.owner_id)
        if user is None:
            # A photo outlives its owner only through a bug; say so, don't hide it.
            raise LookupError(f"photo {self.model.key} has no owner")
        return User.from_model(user)
