"""Reading users by id or by username."""

from __future__ import annotations

from resolvers import nodes
from resolvers.context import RequestContext
from resolvers.pagination import Edge, Page
from store.models import User, user_to_entity, username_key


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


def remember(context: RequestContext, user: User) -> None:
    """Keeps `user` in the request's DataLoader: the owner of every photo on the
    user's page, read again for free."""
    context.loaders.prime(user_to_entity(user))


async def users_page(context: RequestContext, page: Page[str]) -> Page[User]:
    """A page of user ids as a page of users; a user who left keeps no edge, and
    the cursors of the others are unaffected."""
    by_id = await nodes.users(context, page.node_list)
    return page.keeping(
        [Edge(by_id[edge.node], edge.cursor) for edge in page.edges if edge.node in by_id]
    )
