"""Objects by global id or by key, read through the request's DataLoader and
converted to their models: what `node(id:)`, a mutation's payload and a field
that points at another object read. Who may see what is decided here as well:
a notification exists only for its recipient.
"""

from __future__ import annotations

from collections.abc import Sequence

from resolvers.context import RequestContext
from resolvers.node_ids import from_global_id
from store import device_models, models, social_models
from store.keys import Key
from store.notification_models import NOTIFICATION, Notification, notification_from_entity

NodeModel = models.User | models.Photo | social_models.Comment | Notification


async def node(context: RequestContext, global_id: str) -> NodeModel | None:
    """The object an id names, or None when there is none or the viewer may not see
    it. A malformed id is BAD_USER_INPUT (from_global_id)."""
    type_name, key = from_global_id(global_id)
    if type_name == "User" and key.kind == models.USER and key.parent is None:
        return await context.loaders.user(key.name)
    if type_name == "Photo" and key.kind == models.PHOTO and key.parent is not None:
        return await photo(context, key)
    if type_name == "Comment" and key.kind == social_models.COMMENT and key.parent:
        return await comment(context, key)
    if type_name == "Notification" and key.kind == NOTIFICATION and key.parent:
        return await notification(context, key)
    return None


async def photo(context: RequestContext, key: Key) -> models.Photo | None:
    entity = await context.loaders.entity(key)
    return models.photo_from_entity(entity) if entity is not None else None


async def comment(context: RequestContext, key: Key) -> social_models.Comment | None:
    entity = await context.loaders.entity(key)
    return social_models.comment_from_entity(entity) if entity is not None else None


async def device(context: RequestContext, key: Key) -> device_models.Device | None:
    entity = await context.loaders.entity(key)
    return device_models.device_from_entity(entity) if entity is not None else None


async def notification(context: RequestContext, key: Key) -> Notification | None:
    """The viewer's own notification at `key`; to anyone else it does not exist."""
    viewer = context.viewer
    if viewer is None or key.parent is None or key.parent.name != viewer.user_id:
        return None
    entity = await context.loaders.entity(key)
    return notification_from_entity(entity) if entity is not None else None


async def users(context: RequestContext, user_ids: Sequence[str]) -> dict[str, models.User]:
    """The users among `user_ids` who still exist, by id, in one batched get."""
    found = await context.loaders.many([models.user_key(user_id) for user_id in user_ids])
    return {e.key.name: models.user_from_entity(e) for e in found if e is not None}
