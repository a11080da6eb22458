"""Demo data for local development: a few users and enough photos to page through.

Seeding is idempotent: every entity has a fixed key, so running it again rewrites
the same rows instead of adding more.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from store import models
from store.port import MAX_BATCH, Entity, Store

DEMO_USERS = [
    ("demo-alice", "alice", "Alice Liddell", 60),
    ("demo-bob", "bob", "Bob Ross", 5),
    ("demo-carol", "carol", "Carol Danvers", 3),
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
    return entities


async def seed_demo_data(store: Store) -> int:
    """Writes the demo entities that are missing; returns how many it wrote."""
    entities = demo_entities()
    existing = await store.get_many([e.key for e in entities])
    missing = [e for e, found in zip(entities, existing, strict=True) if found is None]
    for start in range(0, len(missing), MAX_BATCH):
        await store.put_many(missing[start : start + MAX_BATCH])
    return len(missing)
