"""Plain dataclass models and their one mapping to and from store entities.

Entity groups: a User is a root; a Photo is a child of its owner, so a user's own
photos are one strongly consistent ancestor query. A Username is a root of its
own, keyed by the lower-cased name, so that claiming a name is a transactional
get-then-put on one key rather than a query.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import TypeVar, cast

from store.keys import Key
from store.port import Entity, Query

USER = "User"
USERNAME = "Username"
PHOTO = "Photo"
IDEMPOTENCY_RECORD = "IdempotencyRecord"
STRAY_BLOB = "StrayBlob"
_IMAGE_PREFIX = "image_"
_Model = TypeVar("_Model")


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
    # From the upload pipeline; photos stored before uploads existed have none.
    width: int | None = None
    height: int | None = None
    blurhash: str | None = None
    dominant_color: str | None = None
    images: Mapping[str, str] = field(default_factory=dict)  # variant -> blob name
    # media.derivatives.RENDER_VERSION of the pipeline that cut `images` (0: before versions).
    render_version: int = 0

    @property
    def key(self) -> Key:
        return photo_key(self.owner_id, self.id)

    @property
    def sort_key(self) -> str:
        return sort_key(self.created_at, self.id)


@lru_cache(maxsize=16384)  # owners repeat on every page: one key each, hashed once
def user_key(user_id: str) -> Key:
    return Key.of(USER, user_id)


def username_key(username: str) -> Key:
    return Key.of(USERNAME, username.lower())


@lru_cache(maxsize=16384)  # a page's photos: asked for by each of their fields, every request
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
    return derived(entity, User, _user_from_entity)


def _user_from_entity(entity: Entity) -> User:
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
    images = {_IMAGE_PREFIX + variant: name for variant, name in photo.images.items()}
    return Entity(
        photo.key,
        {
            "caption": photo.caption,
            "created_at": photo.created_at,
            "sort_key": photo.sort_key,
            "width": photo.width,
            "height": photo.height,
            "blurhash": photo.blurhash,
            "dominant_color": photo.dominant_color,
            "render_version": photo.render_version,
            **images,
        },
        unindexed=frozenset(
            {"caption", "width", "height", "blurhash", "dominant_color", "render_version", *images}
        ),
    )


def photo_from_entity(entity: Entity) -> Photo:
    return derived(entity, Photo, _photo_from_entity)


def _photo_from_entity(entity: Entity) -> Photo:
    p = entity.properties
    owner = entity.key.parent
    if owner is None:
        raise ValueError(f"a Photo must have an owner: {entity.key}")
    return Photo(
        owner_id=owner.name,
        id=entity.key.name,
        caption=str(p.get("caption") or ""),
        created_at=_datetime(p["created_at"]),
        width=_optional_int(p.get("width")),
        height=_optional_int(p.get("height")),
        blurhash=_optional_str(p.get("blurhash")),
        dominant_color=_optional_str(p.get("dominant_color")),
        images={
            name.removeprefix(_IMAGE_PREFIX): str(value)
            for name, value in p.items()
            if name.startswith(_IMAGE_PREFIX) and isinstance(value, str)
        },
        render_version=_optional_int(p.get("render_version")) or 0,
    )


@dataclass(frozen=True)
class StrayBlob:
    """Blob names that no committed Photo may be using. createPhoto's record is
    committed before its first blob and deleted in the same transaction that
    commits the Photo; deletePhoto writes one in the transaction that deletes the
    Photo. Whatever is left after a day is garbage: a cleanup job pages
    `stray_blobs_oldest_first()`, calls `BlobStore.delete(names)`, then deletes the
    record. A record in the owner's entity group names its owner; one written ahead
    of the upload that takes it (resolvers/upload_records.py) knows none
    (`owner_id` None) and is a root entity, its own group."""

    owner_id: str | None
    id: str
    names: tuple[str, ...]
    created_at: datetime

    @property
    def key(self) -> Key:
        if self.owner_id is None:
            return Key.of(STRAY_BLOB, self.id)
        return user_key(self.owner_id).child(STRAY_BLOB, self.id)


def stray_blob_to_entity(stray: StrayBlob) -> Entity:
    return Entity(
        stray.key,
        {
            "names": list(stray.names),
            "created_at": stray.created_at,
            "sort_key": sort_key(stray.created_at, stray.id),
        },
        unindexed=frozenset({"names"}),
    )


def stray_blob_from_entity(entity: Entity) -> StrayBlob:
    owner = entity.key.parent
    names = entity.properties.get("names")
    return StrayBlob(
        owner_id=owner.name if owner is not None else None,
        id=entity.key.name,
        names=tuple(str(name) for name in names) if isinstance(names, list) else (),
        created_at=_datetime(entity.properties["created_at"]),
    )


def stray_blobs_oldest_first() -> Query:
    """Every user's stray blob records, oldest first (a global query: a record may
    show up late on Datastore, which a job that waits a day does not mind)."""
    return Query(kind=STRAY_BLOB, order_by="sort_key", descending=False)


def derived(entity: Entity, model: type[_Model], make: Callable[[Entity], _Model]) -> _Model:
    """`make(entity)`, made once for an entity that keeps its models (a cached one:
    the models are frozen, and so is what they are made from)."""
    kept = entity.derived
    if kept is None:
        return make(entity)
    found = kept.get(model)
    if found is None:
        found = kept[model] = make(entity)
    return cast(_Model, found)


def _optional_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _datetime(value: object) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"expected a datetime, got {value!r}")
    return value if value.tzinfo else value.replace(tzinfo=UTC)
