"""Objects by global id or by key, read through the request's DataLoader and
converted to their models: what `node(id:)`, a mutation's payload and a field
that points at another object read. Who may see what is decided here as well:
a notification exists only for its recipient.
"""

from __future__ import annotations

from collections.abc import Sequence

from errors import BadUserInput
from resolvers.context import RequestContext
from resolvers.node_ids import from_global_id
from store import device_models, models, social_models
from store.keys import Key
from store.notification_models import NOTIFICATION, Notification, notification_from_entity

NodeModel = models.User | models.Photo | social_models.Comment | Notification


# What each type's ids name: the key's kind, and whether it has a parent.
_NODE_KEYS = {
    "User": (models.USER, False),
    "Photo": (models.PHOTO, True),
    "Comment": (social_models.COMMENT, True),
    "Notification": (NOTIFICATION, True),
}


def _fetched_key(global_id: str) -> Key | None:
    """The key `node` reads by a get of its own (not a notification's, which is read
    only for its recipient); None for an id that names no such object."""
    try:
        type_name, key = from_global_id(global_id)
    except BadUserInput:
        return None  # `node` answers it
    named = _NODE_KEYS.get(type_name) == (key.kind, key.parent is not None)
    return key if named and type_name != "Notification" else None


async def fetch_nodes(context: RequestContext, global_ids: Sequence[str]) -> None:
    """One get for the objects the ids name, kept in the request's loaders: a root
    field's ids are known at once, and a DataLoader's batch and answer would cost
    two turns of the event loop, which under load are most of a read's time."""
    keys = [key for key in map(_fetched_key, global_ids) if key is not None]
    await context.loaders.fetch_and_prime(keys)


async def node(context: RequestContext, global_id: str) -> NodeModel | None:
    """The object an id names, or None when there is none or the viewer may not see
    it. A malformed id is BAD_USER_INPUT (from_global_id)."""
    type_name, key = from_global_id(global_id)
    if _NODE_KEYS.get(type_name) != (key.kind, key.parent is not None):
        return None
    if type_name == "Notification":
        return await notification(context, key)  # read only for its recipient
    await context.loaders.fetch_and_prime([key])  # nothing more when fetched already
    if type_name == "User":
        return await context.loaders.user(key.name)
    if type_name == "Photo":
        return await photo(context, key)
    return await comment(context, key)


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
