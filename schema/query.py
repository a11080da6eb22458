"""The root Query type."""

from __future__ import annotations

import asyncio

import strawberry

from errors import BadUserInput
from resolvers import models, nodes, photos, users
from resolvers.pagination import PageArgs
from schema.comment import Comment
from schema.connection import Connection, to_connection
from schema.info import Info
from schema.node import Node
from schema.notification import Notification
from schema.photo import Photo
from schema.user import User
from schema.viewer import Viewer

MAX_NODES = 100


async def _resolve_node(info: Info, global_id: str) -> Node | None:
    """The object with this id, or None when there is none (or none this viewer may see):
    Relay clients take null for "gone" and drop it from their cache. A malformed id
    is a client bug, refused with BAD_USER_INPUT."""
    found = await nodes.node(info.context, global_id)
    if isinstance(found, models.User):
        return User.from_model(found)
    if isinstance(found, models.Photo):
        return Photo.from_model(found)
    if isinstance(found, models.Comment):
        return Comment.from_model(found)
    if isinstance(found, models.Notification):
        return Notification.from_model(found)
    return None


@strawberry.type
class Query:
    @strawberry.field(description="Refetch any object by its global id; null when it is gone.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await _resolve_node(info, id)

    @strawberry.field(description=f"Refetch up to {MAX_NODES} objects by global id, in order.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise BadUserInput(f"At most {MAX_NODES} ids at once.", argument="ids")
        # Every id in one get first; each node then finds its object read.
        await nodes.fetch_nodes(info.context, ids)
        return list(await asyncio.gather(*(_resolve_node(info, global_id) for global_id in ids)))

    @strawberry.field(
        description="The signed-in user: feed, notifications, devices and profile. Needs a "
        "token (null with UNAUTHENTICATED without one)."
    )
    def viewer(self, info: Info) -> Viewer | None:
        return Viewer(user_id=info.context.require_viewer().user_id)

    @strawberry.field(description="A user by username (case-insensitive), or null.")
    async def user(self, info: Info, username: str) -> User | None:
        user = await users.user_by_username(info.context, username)
        return User.from_model(user) if user else None

    @strawberry.field(description="Everyone's photos, newest first.")
    async def photos(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Photo] | None:
        page = await photos.all_photos(info.context, PageArgs(first, after, last, before))
        return to_connection(page, Photo.from_model)
