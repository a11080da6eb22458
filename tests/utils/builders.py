"""Small builders that write models straight through the store port."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from store import models
from store.port import MAX_BATCH, Store

BASE_TIME = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


async def make_user(store: Store, username: str) -> models.User:
    user = models.User(f"id-{username}", username, username.title(), BASE_TIME)
    await store.put_many([models.user_to_entity(user), models.username_claim(user)])
    return user


def photo_at(owner: models.User, n: int, *, minutes: int | None = None) -> models.Photo:
    return models.Photo(
        owner_id=owner.id,
        id=f"{owner.username}-{n:05d}",
        caption=f"photo {n}",
        created_at=BASE_TIME + timedelta(minutes=n if minutes is None else minutes),
    )


async def make_photos(
    store: Store, owner: models.User, count: int, *, start: int = 0
) -> list[models.Photo]:
    """`count` photos, one a minute; returned newest first, as feeds list them."""
    photos = [photo_at(owner, n) for n in range(start, start + count)]
    entities = [models.photo_to_entity(p) for p in photos]
    for offset in range(0, len(entities), MAX_BATCH):
        await store.put_many(entities[offset : offset + MAX_BATCH])
    return photos[::-1]


async def owner_and_fan(
    store: Store, photos: int
) -> tuple[models.User, list[models.Photo], models.User]:
    """An owner with `photos` photos (newest first), and another user to act on them."""
    owner = await make_user(store, "owner")
    made = await make_photos(store, owner, photos)
    return owner, made, await make_user(store, "fan")
