"""Reading users by id or by username."""

from __future__ import annotations

from resolvers.context import RequestContext
from store.models import User, username_key


async def user_by_username(context: RequestContext, username: str) -> User | None:
    # Usernames are claimed through their own root entity, so this is two gets by
    # key (strongly consistent) instead of an eventually consistent query.
    if not username or len(username) > 64:
        return None
    claim = await context.loaders.entity(username_key(username))
    if claim is None:
        return None
    user_id = claim.properties.get("user_id")
    return await context.loaders.user(str(user_id)) if isinstance(user_id, str) else None


async def user_by_id(context: RequestContext, user_id: str) -> User | None:
    return await context.loaders.user(user_id)
