"""Demo data for local development: a few users and enough photos to page through.

Seeding is idempotent: every entity has a fixed key, so running it again rewrites
the same rows instead of adding more. Given the media services, each demo photo
gets a small generated image through the real upload pipeline, so `make run`
shows pictures.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from PIL import Image

from media import Media, blob_name
from media.derivatives import RENDER_VERSION
from store import counters, models, social_models
from store.port import MAX_BATCH, Entity, Store

DEMO_USERS = [
    ("demo-alice", "alice", "Alice Liddell", 60),
    ("demo-bob", "bob", "Bob Ross", 5),
    ("demo-carol", "carol", "Carol Danvers", 3),
]
# Who follows whom among the demo users, so that their home feeds and follower
# lists have something in them (sign in as one: make token USER=demo-alice).
DEMO_FOLLOWS = [
    ("demo-alice", "demo-bob"),
    ("demo-alice", "demo-carol"),
    ("demo-bob", "demo-alice"),
    ("demo-carol", "demo-alice"),
]
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def demo_entities() -> list[Entity]:
    entities: list[Entity] = []
    for index, (user_id, username, display_name, photo_count) in enumerate(DEMO_USERS):
        user = models.User(user_id, username, display_name, _EPOCH + timedelta(days=index))
        entities += [models.user_to_entity(user), models.username_claim(user)]
        for n in range(photo_count):
            photo = models.Photo(
                owner_id=user_id,
                id=f"{username}-{n:03d}",
                caption=f"{display_name.split()[0]}'s photo #{n + 1}",
                created_at=_EPOCH + timedelta(days=10 + n, minutes=index),
            )
            entities.append(models.photo_to_entity(photo))
    return entities + demo_social_entities(entities)


def demo_social_entities(entities: list[Entity]) -> list[Entity]:
    """Both halves of each follow, the follow counts, and the home feeds the
    fan-out would have written (each user's own photos and their followees')."""
    photos = [models.photo_from_entity(e) for e in entities if e.key.kind == models.PHOTO]
    social: list[Entity] = []
    readers: dict[str, set[str]] = {user_id: {user_id} for user_id, *_ in DEMO_USERS}
    for follower, followee in DEMO_FOLLOWS:
        social.append(
            social_models.edge_entity(
                social_models.following_key(follower, followee), followee, _EPOCH
            )
        )
        social.append(
            social_models.edge_entity(
                social_models.follower_key(followee, follower), follower, _EPOCH
            )
        )
        readers[followee].add(follower)
    for kind, side in (("followers", 1), ("following", 0)):
        for user_id, *_ in DEMO_USERS:
            count = sum(1 for edge in DEMO_FOLLOWS if edge[side] == user_id)
            name = counters.counter_name(kind, models.user_key(user_id))
            social.append(counters.total_entity(name, count, _EPOCH))
    for photo in photos:
        social += [
            social_models.feed_item(reader, photo.key, photo.sort_key)
            for reader in sorted(readers[photo.owner_id])
        ]
    return social


async def seed_demo_data(store: Store, media: Media | None = None) -> int:
    """Writes the demo entities that are missing (and, given `media`, demo photos
    that have no images yet); returns how many it wrote."""
    entities = demo_entities()
    existing = await store.get_many([e.key for e in entities])
    missing = [
        e
        for e, found in zip(entities, existing, strict=True)
        if found is None or (media and e.key.kind == models.PHOTO and not _has_images(found))
    ]
    if media is not None:
        missing = list(await asyncio.gather(*(_with_image(media, e) for e in missing)))
    for start in range(0, len(missing), MAX_BATCH):
        await store.put_many(missing[start : start + MAX_BATCH])
    return len(missing)


def _has_images(entity: Entity) -> bool:
    return bool(models.photo_from_entity(entity).images)


async def _with_image(media: Media, entity: Entity) -> Entity:
    if entity.key.kind != models.PHOTO:
        return entity
    photo = models.photo_from_entity(entity)
    picture = await asyncio.to_thread(_demo_picture, photo.id)
    processed = await media.pipeline.process(io.BytesIO(picture))
    names = {r.variant: blob_name(photo.id, r) for r in processed.renditions}
    for rendition in processed.renditions:
        await media.blobs.put(names[rendition.variant], rendition.data, rendition.content_type)
    return models.photo_to_entity(
        replace(
            photo,
            width=processed.width,
            height=processed.height,
            blurhash=processed.blurhash,
            dominant_color=processed.dominant_color,
            images=names,
            render_version=RENDER_VERSION,
        )
    )


def _demo_picture(seed: str) -> bytes:
    """A small landscape in a hue of its own: a sky gradient over a darker ground."""
    hue = sum(seed.encode()) * 37 % 256
    sky = Image.linear_gradient("L").resize((320, 160)).point(lambda v: 96 + v // 3)
    ground = Image.new("L", (320, 80), 70)
    value = Image.new("L", (320, 240))
    value.paste(sky, (0, 0))
    value.paste(ground, (0, 160))
    hsv = Image.merge(
        "HSV", (Image.new("L", value.size, hue), Image.new("L", value.size, 140), value)
    )
    buffer = io.BytesIO()
    hsv.convert("RGB").save(buffer, "PNG")
    return buffer.getvalue()
