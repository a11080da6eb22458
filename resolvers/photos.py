"""Reading photos: a user's own (one ancestor query) and everyone's (global)."""

from __future__ import annotations

from functools import lru_cache

from resolvers.context import RequestContext
from resolvers.pagination import Page, PageArgs, paginate
from store.models import PHOTO, Photo, photo_from_entity, user_key
from store.port import Query

ALL_PHOTOS_SCOPE = "photos:all"


@lru_cache(maxsize=16384)  # a Query is frozen; the same profiles are asked for again and again
def _user_photos_query(user_id: str) -> Query:
    return Query(kind=PHOTO, order_by="sort_key", ancestor=user_key(user_id))


async def user_photos(context: RequestContext, user_id: str, args: PageArgs) -> Page[Photo]:
    """Strongly consistent: the owner sees their own write at once."""
    return await paginate(
        context.store,
        context.cursors,
        _user_photos_query(user_id),
        f"photos:user:{user_id}",
        args,
        photo_from_entity,
    )


async def all_photos(context: RequestContext, args: PageArgs) -> Page[Photo]:
    """A global query: eventually consistent on Datastore, newest first."""
    return await paginate(
        context.store,
        context.cursors,
        Query(kind=PHOTO, order_by="sort_key"),
        ALL_PHOTOS_SCOPE,
        args,
        photo_from_entity,
    )
