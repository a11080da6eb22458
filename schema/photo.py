"""The Photo type."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers import comments, likes
from resolvers.node_ids import to_global_id
from resolvers.pagination import PageArgs
from schema.connection import Connection, to_connection
from schema.image_size import ImageSize
from schema.info import Info
from schema.node import Node
from store import models

if TYPE_CHECKING:
    from schema.comment import Comment
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

    @strawberry.field(description="How many people like it.")
    async def like_count(self, info: Info) -> int:
        return await likes.like_count(info.context, self.model.key)

    @strawberry.field(description="Whether the signed-in viewer likes it (false when signed out).")
    async def viewer_has_liked(self, info: Info) -> bool:
        return await likes.viewer_has_liked(info.context, self.model.key)

    @strawberry.field(description="How many comments it has.")
    async def comment_count(self, info: Info) -> int:
        return await comments.comment_count(info.context, self.model.key)

    @strawberry.field(description="Its comments, oldest first.")
    async def comments(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Comment, strawberry.lazy("schema.comment")]] | None:
        from schema.comment import Comment

        page = await comments.photo_comments(
            info.context, self.model.key, PageArgs(first, after, last, before)
        )
        return to_connection(page, Comment.from_model)

    @strawberry.field(description="Width in pixels of the original, as displayed.")
    def width(self) -> int | None:
        return self.model.width

    @strawberry.field(description="Height in pixels of the original, as displayed.")
    def height(self) -> int | None:
        return self.model.height

    @strawberry.field(description="A BlurHash to paint while the image loads (blurha.sh).")
    def blurhash(self) -> str | None:
        return self.model.blurhash

    @strawberry.field(description="The image's most common colour, as #rrggbb.")
    def dominant_color(self) -> str | None:
        return self.model.dominant_color

    @strawberry.field(description="The URL of the image in a size; it never changes content.")
    def image(self, info: Info, size: ImageSize = ImageSize.LARGE) -> str | None:
        name = self.model.images.get(size.value)
        media = info.context.media
        return media.url(name) if name is not None and media is not None else None

    @strawberry.field(
        description="Who posted it. Null, with an error at this path, only if the owner's "
        "profile is missing: the rest of the page stands."
    )
    async def owner(self, info: Info) -> Annotated[User, strawberry.lazy("schema.user")] | None:
        from schema.user import User

        user = await info.context.loaders.user(self.model.owner_id)
        if user is None:
            # A photo outlives its owner only through a bug; say so (logged, with an
            # error id), but only here: nullable, so the photo and its page survive.
            raise LookupError(f"photo {self.model.key} has no owner")
        return User.from_model(user)
