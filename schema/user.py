"""The User type."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers import follows, models, photos, users
from resolvers.loaders import Maybe
from resolvers.node_ids import to_global_id
from resolvers.pagination import PageArgs
from schema.connection import Connection, to_connection
from schema.info import Info
from schema.late import object_type
from schema.node import Node

if TYPE_CHECKING:
    from schema.photo import Photo


@strawberry.type(description="Someone who posts photos: what anyone may see of them.")
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
    ) -> Connection[Annotated[Photo, strawberry.lazy("schema.photo")]] | None:
        photo_type: type[Photo] = object_type("schema.photo", "Photo")
        users.remember(info.context, self.model)
        page = await photos.user_photos(
            info.context, self.model.id, PageArgs(first, after, last, before)
        )
        return to_connection(page, photo_type.from_model)

    @strawberry.field(description="Who follows this user, most recent first.")
    async def followers(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[User] | None:
        page = await follows.followers(
            info.context, self.model.id, PageArgs(first, after, last, before)
        )
        return to_connection(await users.users_page(info.context, page), User.from_model)

    @strawberry.field(description="Whom this user follows, most recent first.")
    async def following(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[User] | None:
        page = await follows.following(
            info.context, self.model.id, PageArgs(first, after, last, before)
        )
        return to_connection(await users.users_page(info.context, page), User.from_model)

    @strawberry.field(graphql_type=int)
    def follower_count(self, info: Info) -> Maybe[int]:
        return follows.follower_count(info.context, self.model.id)

    @strawberry.field(graphql_type=int)
    def following_count(self, info: Info) -> Maybe[int]:
        return follows.following_count(info.context, self.model.id)

    @strawberry.field(
        graphql_type=bool, description="Whether the signed-in viewer follows this user."
    )
    def viewer_follows(self, info: Info) -> Maybe[bool]:
        return follows.viewer_follows(info.context, self.model.id)
