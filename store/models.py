"""Plain dataclass models and their one mapping to and from store entities.

Entity groups: a User is a root; a Photo is a child of its owner, so a user's own
photos are one strongly consistent ancestor query. A Username is a root of its
own, keyed by the lower-cased name, so that claiming a name is a transactional
get-then-put on one key rather than a query.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from store.keys import Key
from store.port import Entity

USER = "User"
USERNAME = "Username"
PHOTO = "Photo"
IDEMPOTENCY_RECORD = "IdempotencyRecord"


def new_id() -> str:
    """A random, URL-safe id for a new entity (never reused, never guessed)."""
    return secrets.token_hex(8)


def sort_key(created_at: datetime, entity_id: str) -> str:
    """Newest-first order that stays unique when two entities share a microsecond."""
    micros = int(created_at.timestamp() * 1_000_000)
    return f"{micros:017d}.{entity_id}"


@dataclass(frozen=True)
class User:
    id: str
    username: str
    display_name: str
    created_at: datetime

    @property
    def key(self) -> Key:
        return user_key(self.id)


@dataclass(frozen=True)
class Photo:
    owner_id: str
    id: str
    caption: str
    created_at: datetime

    @property
    def key(self) -> Key:
        return photo_key(self.owner_id, self.id)

    @property
    def sort_key(self) -> str:
        return sort_key(self.created_at, self.id)


def user_key(user_id: str) -> Key:
    return Key.of(USER, user_id)


def username_key(username: str) -> Key:
    return Key.of(USERNAME, username.lower())


def photo_key(owner_id: str, photo_id: str) -> Key:
    return Key.of(USER, owner_id, PHOTO, photo_id)


def idempotency_key(user_id: str, digest: str) -> Key:
    return user_key(user_id).child(IDEMPOTENCY_RECORD, digest)


def idempotency_record(
    key: Key, fingerprint: str, outcome: str, created_at: datetime, expires_at: datetime
) -> Entity:
    """A mutation's outcome, kept in the viewer's entity group until `expires_at`.
    `expires_key` orders records by expiry for the job that prunes them."""
    return Entity(
        key,
        {
            "fingerprint": fingerprint,
            "outcome": outcome,
            "created_at": created_at,
            "expires_at": expires_at,
            "expires_key": sort_key(expires_at, key.name),
        },
        unindexed=frozenset({"outcome", "fingerprint"}),
    )


def user_to_entity(user: User) -> Entity:
    return Entity(
        user.key,
        {
            "username": user.username,
            "username_lower": user.username.lower(),
            "display_name": user.display_name,
            "created_at": user.created_at,
        },
        unindexed=frozenset({"display_name"}),
    )


def user_from_entity(entity: Entity) -> User:
    p = entity.properties
    return User(
        id=entity.key.name,
        username=str(p["username"]),
        display_name=str(p["display_name"]),
        created_at=_datetime(p["created_at"]),
    )


def username_claim(user: User) -> Entity:
    return Entity(username_key(user.username), {"user_id": user.id})


def photo_to_entity(photo: Photo) -> Entity:
    return Entity(
        photo.key,
        {"caption": photo.caption, "created_at": photo.created_at, "sort_key": photo.sort_key},
        unindexed=frozenset({"caption"}),
    )


def photo_from_entity(entity: Entity) -> Photo:
    p = entity.properties
    owner = entity.key.parent
    if owner is None:
        raise ValueError(f"a Photo must have an owner: {entity.key}")
    return Photo(
        owner_id=owner.name,
        id=entity.key.name,
        caption=str(p.get("caption") or ""),
        created_at=_datetime(p["created_at"]),
    )


def _datetime(value: object) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"expected a datetime, got {value!r}")
    return value if value.tzinfo else value.replace(tzinfo=UTC)
