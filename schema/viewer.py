"""The Viewer type: what only the signed-in user may see.

`Query.viewer` is the only way in, so none of these fields needs to ask whose
they are; the public `User` carries none of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers import devices, email_preferences, feed, users
from resolvers import notifications as notification_reads
from resolvers.pagination import PageArgs
from schema.connection import Connection, to_connection
from schema.device import Device
from schema.email_preferences import EmailPreferences
from schema.info import Info
from schema.user import User

if TYPE_CHECKING:
    from schema.notification import Notification
    from schema.photo import Photo


@strawberry.type(
    description="The signed-in user: their profile, feed, notifications, devices and e-mail."
)
class Viewer:
    user_id: strawberry.Private[str]

    @strawberry.field(description="The viewer's public profile; null until createProfile.")
    async def user(self, info: Info) -> User | None:
        user = await users.user_by_id(info.context, self.user_id)
        return User.from_model(user) if user else None

    @strawberry.field(
        description="The home feed: the viewer's own photos and those of the people they "
        "follow, newest first. Every page with hasNextPage has an endCursor, even one whose "
        "items were all hidden."
    )
    async def feed(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Photo, strawberry.lazy("schema.photo")]] | None:
        from schema.photo import Photo

        page = await feed.home_feed(info.context, PageArgs(first, after, last, before))
        return to_connection(page, Photo.from_feed)

    @strawberry.field(
        description="Notifications, newest first. An item never moves: a new event on it "
        "makes a new item at the top and removes the old one."
    )
    async def notifications(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Notification, strawberry.lazy("schema.notification")]] | None:
        from schema.notification import Notification

        page = await notification_reads.notifications(
            info.context, PageArgs(first, after, last, before)
        )
        return to_connection(page, Notification.from_model)

    @strawberry.field(
        description=f"Unread notifications, counted up to {notification_reads.UNREAD_COUNT_CAP} "
        f"(show {notification_reads.UNREAD_COUNT_CAP} as '99+')."
    )
    async def unread_notification_count(self, info: Info) -> int:
        return await notification_reads.unread_count(info.context)

    @strawberry.field(
        description=f"The app installs that get the viewer's pushes (at most "
        f"{devices.MAX_DEVICES}), most recently registered first."
    )
    async def devices(self, info: Info) -> list[Device]:
        return [Device.from_model(d) for d in await devices.viewer_devices(info.context)]

    @strawberry.field(description="Which e-mails the viewer gets, and the address they go to.")
    async def email_preferences(self, info: Info) -> EmailPreferences:
        return EmailPreferences.from_model(await email_preferences.viewer_preferences(info.context))
