"""The Photo type."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Optional

import strawberry

from resolvers import comments, likes, models
from resolvers.feed import FeedPhoto
from resolvers.loaders import Maybe, then
from resolvers.node_ids import to_global_id
from resolvers.pagination import PageArgs
from schema.connection import Connection, to_connection
from schema.image_size import ImageSize
from schema.info import Info
from schema.known_values import known_in
from schema.late import object_type
from schema.node import Node

if TYPE_CHECKING:
    from schema.comment import Comment
    from schema.user import User


@strawberry.type(description="A photo and its caption, in its owner's entity group.")
class Photo(Node):
    caption: str
    created_at: datetime
    # Plain values are plain fields: a resolver for each would cost a call, the
    # wrapper strawberry puts around it and its Info, for every photo on a page.
    width: int | None = strawberry.field(
        description="Width in pixels of the original, as displayed."
    )
    height: int | None = strawberry.field(
        description="Height in pixels of the original, as displayed."
    )
    blurhash: str | None = strawberry.field(
        description="A BlurHash to paint while the image loads (blurha.sh)."
    )
    dominant_color: str | None = strawberry.field(
        description="The image's most common colour, as #rrggbb."
    )
    model: strawberry.Private[models.Photo]
    # What a home feed page read with the photo (its counts, the viewer's like).
    shown: strawberry.Private[FeedPhoto | None] = None

    @classmethod
    def from_model(cls, photo: models.Photo, shown: FeedPhoto | None = None) -> Photo:
        return cls(
            id=strawberry.ID(to_global_id("Photo", photo.key)),
            caption=photo.caption,
            created_at=photo.created_at,
            width=photo.width,
            height=photo.height,
            blurhash=photo.blurhash,
            dominant_color=photo.dominant_color,
            model=photo,
            shown=shown,
        )

    @classmethod
    def from_feed(cls, shown: FeedPhoto) -> Photo:
        return cls.from_model(shown.photo, shown)

    # These return what a feed page read with the photo (`shown`: a compiled plan
    # reads it without calling them, schema/known_values.py), else at once what
    # the request has loaded already (a page's prefetch), and an awaitable only
    # for what it has not (graphql_type: the annotation says Maybe[...], which is
    # no GraphQL type).
    @strawberry.field(graphql_type=int, description="How many people like it.")
    @known_in("shown", "like_count")
    def like_count(self, info: Info) -> Maybe[int]:
        shown = self.shown
        if shown is not None:
            return shown.like_count
        return likes.like_count(info.context, self.model.key)

    @strawberry.field(
        graphql_type=bool,
        description="Whether the signed-in viewer likes it (false when signed out).",
    )
    @known_in("shown", "viewer_has_liked")
    def viewer_has_liked(self, info: Info) -> Maybe[bool]:
        shown = self.shown
        if shown is not None:
            return shown.viewer_has_liked
        return likes.viewer_has_liked(info.context, self.model.key)

    @strawberry.field(graphql_type=int, description="How many comments it has.")
    @known_in("shown", "comment_count")
    def comment_count(self, info: Info) -> Maybe[int]:
        shown = self.shown
        if shown is not None:
            return shown.comment_count
        return comments.comment_count(info.context, self.model.key)

    @strawberry.field(description="Its comments, oldest first.")
    async def comments(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Comment, strawberry.lazy("schema.comment")]] | None:
        comment_type: type[Comment] = object_type("schema.comment", "Comment")
        page = await comments.photo_comments(
            info.context, self.model.key, PageArgs(first, after, last, before)
        )
        return to_connection(page, comment_type.from_model)

    @strawberry.field(description="The URL of the image in a size; it never changes content.")
    def image(self, info: Info, size: ImageSize = ImageSize.LARGE) -> str | None:
        name = self.model.images.get(size.value)
        return info.context.media.url(name) if name is not None else None

    @strawberry.field(
        graphql_type=Optional[Annotated["User", strawberry.lazy("schema.user")]],  # noqa: UP045
        description="Who posted it. Null, with an error at this path, only if the owner's "
        "profile is missing: the rest of the page stands.",
    )
    def owner(self, info: Info) -> Maybe[User | None]:
        loaders = info.context.loaders
        found = loaders.user_now(self.model.owner_id)
        if type(found) is models.User:  # in hand: one User object for each owner a request
            user_type: type[User] = object_type("schema.user", "User")
            return loaders.shown(found, user_type.from_model)
        return then(found, self._owner)

    def _owner(self, user: models.User | None) -> User:
        if user is None:
            # A photo outlives its owner only through a bug; say so (logged, with an
            # error id), but only here: nullable, so the photo and its page survive.
            raise LookupError(f"photo {self.model.key} has no owner")
        user_type: type[User] = object_type("schema.user", "User")
        return user_type.from_model(user)
