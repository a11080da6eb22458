"""The social graph's entities and where each lives.

Every record sits in the entity group of the user who reads it, so each list a
client pages is one strongly consistent ancestor query:

    User/<a>/Following/<b>      a follows b            (a's "following" list)
    User/<b>/Follower/<a>       the same edge, seen from b (b's "followers" list)
    User/<v>/FeedItem/<o>~<p>   photo p of owner o in v's home feed
    User/<v>/Like/<o>~<p>       v likes photo p (one like per user per photo, by key)
    User/<a>/Comment/<c>        comment c by a (its `photo` names the photo)
    User/<r>/Notification/<k>   a notification for r, coalesced by k

What a user does is written in that user's own group: a like, a comment, the
follower's half of a follow. Nothing is written into the group of the photo's
owner or the followee by the action itself, so a popular photo or user never
takes a write per like (Datastore sustains about one write a second per group).
The followee's half of a follow (`Follower`) and the owner's notifications are
brought up to date by the owner's `fan_in` task, a batch at a time
(store/activity_models.py). A photo's comments are therefore a query on the
`photo` property rather than an ancestor query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from store.keys import Key
from store.models import PHOTO, photo_key, sort_key, user_key
from store.port import Entity, Query

FOLLOWING = "Following"
FOLLOWER = "Follower"
FEED_ITEM = "FeedItem"
LIKE = "Like"
COMMENT = "Comment"


def owner_id_of(photo: Key) -> str:
    owner = photo.parent
    if owner is None or photo.kind != PHOTO:
        raise ValueError(f"not a photo key: {photo}")
    return owner.name


def photo_ref(owner_id: str, photo_id: str) -> str:
    """A photo named inside another user's group; '~' never occurs in our ids."""
    return f"{owner_id}~{photo_id}"


def parse_photo_ref(ref: str) -> Key:
    owner_id, _, photo_id = ref.partition("~")
    return photo_key(owner_id, photo_id)


@lru_cache(maxsize=16384)  # a home page asks for the viewer's edge to each owner shown
def following_key(follower_id: str, followee_id: str) -> Key:
    return user_key(follower_id).child(FOLLOWING, followee_id)


def follower_key(followee_id: str, follower_id: str) -> Key:
    return user_key(followee_id).child(FOLLOWER, follower_id)


def edge_entity(key: Key, other_user_id: str, created_at: datetime) -> Entity:
    return Entity(
        key,
        {
            "user_id": other_user_id,
            "created_at": created_at,
            "sort_key": sort_key(created_at, other_user_id),
        },
    )


def feed_item_key(viewer_id: str, photo: Key) -> Key:
    return user_key(viewer_id).child(FEED_ITEM, photo_ref(owner_id_of(photo), photo.name))


def feed_item(viewer_id: str, photo: Key, photo_sort_key: str) -> Entity:
    """Ordered by the photo's own sort key, so a feed reads newest photo first."""
    return Entity(
        feed_item_key(viewer_id, photo),
        {"owner_id": owner_id_of(photo), "sort_key": photo_sort_key},
    )


# A page asks for the viewer's like of each photo twice (its prefetch and the field),
# request after request: a remembered key has its hash and encoding worked out.
@lru_cache(maxsize=16384)
def like_key(viewer_id: str, photo: Key) -> Key:
    return user_key(viewer_id).child(LIKE, photo_ref(owner_id_of(photo), photo.name))


@dataclass(frozen=True)
class Comment:
    photo: Key
    id: str
    author_id: str
    text: str
    created_at: datetime

    @property
    def key(self) -> Key:
        return comment_key(self.author_id, self.id)


def comment_key(author_id: str, comment_id: str) -> Key:
    return user_key(author_id).child(COMMENT, comment_id)


def comments_query(photo: Key) -> Query:
    """A photo's comments, oldest first, as conversations read."""
    return Query(
        kind=COMMENT, order_by="sort_key", descending=False, equals=(("photo", photo.encode()),)
    )


def comment_to_entity(comment: Comment) -> Entity:
    return Entity(
        comment.key,
        {
            "photo": comment.photo.encode(),
            "author_id": comment.author_id,
            "text": comment.text,
            "created_at": comment.created_at,
            "sort_key": sort_key(comment.created_at, comment.id),
        },
        unindexed=frozenset({"text"}),
    )


def comment_from_entity(entity: Entity) -> Comment:
    p = entity.properties
    created = p["created_at"]
    assert isinstance(created, datetime)
    photo = Key.decode(str(p["photo"]))
    return Comment(photo, entity.key.name, str(p["author_id"]), str(p["text"]), created)
