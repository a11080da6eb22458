"""One batched get per level for what a page of photos reads field by field.

A photo's `owner`, `likeCount`, `commentCount` and `viewerHasLiked` each read
keys through the request's loaders: at once when the request has them (the home
feed prefetches them), else with a coroutine per field per photo, a gather per
photo and a loader future per key (the profile screen: about 110 Tasks and 280
futures a page of 20). A plan knows which of these fields a list's photos
select, so before completing the list it reads the keys of the selected ones
for every photo in one load (`Loaders.many`: the loader's batch, so they share a
get with whatever else that tick reads), and the fields then answer at once.

This mirrors the keys the resolvers read (resolvers/likes.py, comments.py,
loaders.py); if they ever read other keys, the fields still read what they need
themselves, so only the round trips could change (tests/test_round_trips.py).
A failed prefetch is ignored: the fields read again and fail as they would have.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeAlias

from resolvers.context import RequestContext
from resolvers.field_keys import PHOTO_FIELDS, USER_FIELDS, Key
from schema.photo import Photo
from schema.user import User

# A field of a type -> the keys it reads for one object of that type.
# Photo fields that a home feed photo answers from its page (schema/photo.py `shown`).
FEED_PHOTO_FIELDS = frozenset({"likeCount", "commentCount", "viewerHasLiked"})
KeysOf: TypeAlias = Callable[[RequestContext, object], Iterable[Key]]


def photo_keys(fields: Iterable[str], owner_fields: Iterable[str] | None) -> list[KeysOf]:
    """What a photo's selected `fields` read (`owner`: its owner's entity), and
    its owner's `owner_fields` when `owner` is selected."""
    found = [
        _on_feed_photo(PHOTO_FIELDS[name])
        if name in FEED_PHOTO_FIELDS
        else _on_photo(PHOTO_FIELDS[name])
        for name in fields
        if name in PHOTO_FIELDS
    ]
    found += [_on_owner(USER_FIELDS[name]) for name in owner_fields or () if name in USER_FIELDS]
    return found


def user_keys(fields: Iterable[str]) -> list[KeysOf]:
    return [_on_user(USER_FIELDS[name]) for name in fields if name in USER_FIELDS]


def _on_photo(read: Callable[[RequestContext, Any], Iterable[Key]]) -> KeysOf:
    return lambda context, photo: read(context, _model(photo, Photo))


def _on_feed_photo(read: Callable[[RequestContext, Any], Iterable[Key]]) -> KeysOf:
    """A field that a home feed photo answers from what its page read."""

    def keys(context: RequestContext, photo: object) -> Iterable[Key]:
        assert isinstance(photo, Photo)
        return () if photo.shown is not None else read(context, photo.model)

    return keys


def _on_owner(read: Callable[[RequestContext, str], Iterable[Key]]) -> KeysOf:
    return lambda context, photo: read(context, _model(photo, Photo).owner_id)


def _on_user(read: Callable[[RequestContext, str], Iterable[Key]]) -> KeysOf:
    return lambda context, user: read(context, _model(user, User).id)


def _model(value: object, cls: type[Photo | User]) -> Any:
    assert isinstance(value, cls)
    return value.model


class Prefetch:
    """For a list: where its objects are (the items, or an attribute of each, as an
    edge's `node`), their class, and the keys of the fields its plan selects."""

    __slots__ = ("attribute", "cls", "keys_of")

    def __init__(self, attribute: str | None, cls: type, keys_of: tuple[KeysOf, ...]) -> None:
        self.attribute = attribute
        self.cls = cls
        self.keys_of = keys_of

    def missing(self, context: RequestContext, items: list[object]) -> list[Key]:
        """The keys the request has yet to read. When the first object's are all
        read, a resolver has prefetched the page (the home feed does): none."""
        attribute, cls, loaders = self.attribute, self.cls, context.loaders
        keys: list[Key] = []
        for item in items:
            target = getattr(item, attribute, None) if attribute is not None else item
            if type(target) is cls:
                for keys_of in self.keys_of:
                    keys.extend(keys_of(context, target))
                if not loaders.unknown(keys):
                    return []
                break
        for item in items[1:] if keys else ():
            target = getattr(item, attribute, None) if attribute is not None else item
            if type(target) is cls:
                for keys_of in self.keys_of:
                    keys.extend(keys_of(context, target))
        return loaders.unknown(keys)
