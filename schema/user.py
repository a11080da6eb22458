"""The User type."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers import photos
from resolvers.node_ids import to_global_id
from resolvers.pagination import PageArgs
from schema.connection import Connection, to_connection
from schema.info import Info
from schema.node import Node
from store import models

if TYPE_CHECKING:
    from schema.photo import Photo


@strawberry.type(description="Someone who posts photos.")
class User(Node):
    username: str
    display_name: str
    model: strawberry.Private[models.User]

    @classmethod
    def from_model(cls, user: models.User) -> User:
        return cls(
            id=strawberry.ID(to_global_id("User", user.key)),
            username=user.username,
            display_name=user.display_name,
            model=user,
        )

    @strawberry.field(description="This user's photos, newest first.")
    async def photos(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Photo, strawberry.lazy("schema.photo")]]:
        from schema.photo import Photo

        info.context.loaders.prime(models.user_to_entity(self.model))
        page = await photos.user_photos(
            info.context, self.model.id, PageArgs(first, after, last, before)
        )
        return to_connection(page, Photo.from_model)
