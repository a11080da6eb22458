"""The User type."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers import follows, photos
from resolvers.loaders import Maybe
from resolvers.node_ids import to_global_id
from resolvers.pagination import Edge, Page, PageArgs
from schema.connection import Connection, to_connection
from schema.info import Info
from schema.node import Node
from store import models

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
        from schema.photo import Photo

        info.context.loaders.prime(models.user_to_entity(self.model))
        page = await photos.user_photos(
            info.context, self.model.id, PageArgs(first, after, last, before)
        )
        return to_connection(page, Photo.from_model)

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
        return await _users_connection(info, page)

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
        return await _users_connection(info, page)

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


async def _users_connection(info: Info, page: Page[str]) -> Connection[User]:
    loaded = await info.context.loaders.many([models.user_key(u) for u in page.node_list])
    by_id = {e.key.name: models.user_from_entity(e) for e in loaded if e is not None}
    # A user who left keeps no edge; the cursors of the others are unaffected.
    kept = page.keeping(
        [Edge(by_id[edge.node], edge.cursor) for edge in page.edges if edge.node in by_id]
    )
    return to_connection(kept, User.from_model)
