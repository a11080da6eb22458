"""The keys a photo's and a user's fields read through the request's loaders,
for a compiled plan's prefetch (schema/compiled/prefetch.py): the same keys
likes.py, comments.py and follows.py read, one function a field."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from resolvers import comments, follows, likes
from resolvers.context import RequestContext
from store import counters, models, social_models
from store.keys import Key

__all__ = ["PHOTO_FIELDS", "USER_FIELDS", "Key"]  # Key: for the schema's annotations


def _owner(context: RequestContext, photo: models.Photo) -> Iterable[Key]:
    return (models.user_key(photo.owner_id),)


def _like_count(context: RequestContext, photo: models.Photo) -> Iterable[Key]:
    return (counters.key_of(likes.LIKES, photo.key),)


def _comment_count(context: RequestContext, photo: models.Photo) -> Iterable[Key]:
    return (counters.key_of(comments.COMMENTS, photo.key),)


def _viewer_has_liked(context: RequestContext, photo: models.Photo) -> Iterable[Key]:
    if context.viewer is None:
        return ()
    return (social_models.like_key(context.viewer.user_id, photo.key),)


def _viewer_follows(context: RequestContext, user_id: str) -> Iterable[Key]:
    if context.viewer is None:
        return ()
    return (social_models.following_key(context.viewer.user_id, user_id),)


def _follower_count(context: RequestContext, user_id: str) -> Iterable[Key]:
    return (counters.key_of(follows.FOLLOWERS, models.user_key(user_id)),)


def _following_count(context: RequestContext, user_id: str) -> Iterable[Key]:
    return (counters.key_of(follows.FOLLOWING, models.user_key(user_id)),)


PHOTO_FIELDS: dict[str, Callable[[RequestContext, models.Photo], Iterable[Key]]] = {
    "owner": _owner,
    "likeCount": _like_count,
    "commentCount": _comment_count,
    "viewerHasLiked": _viewer_has_liked,
}
USER_FIELDS: dict[str, Callable[[RequestContext, str], Iterable[Key]]] = {
    "viewerFollows": _viewer_follows,
    "followerCount": _follower_count,
    "followingCount": _following_count,
}
