"""The in-process cache keeps entities and pages as objects: a hit hands out what
was cached, decoded once, and nobody can change it for the readers after."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import cast

import pytest

from cache.memory import MemoryCache
from cache.store import CachedStore
from resolvers import feed
from store import models, social_models
from store.keys import Key
from store.port import Entity, Query, Value
from store.sqlite import SQLiteStore
from tests.utils.builders import BASE_TIME

PHOTO = models.Photo("owner", "p1", "as stored", BASE_TIME, 1080, 1440)
PHOTOS = Query(kind=models.PHOTO, order_by="sort_key", ancestor=models.user_key("owner"))


@pytest.fixture
async def cached(tmp_path: Path) -> AsyncIterator[CachedStore]:
    store = CachedStore(SQLiteStore(tmp_path / "objects.db"), MemoryCache(100))
    await store.put_many([models.photo_to_entity(PHOTO)])
    yield store
    await store.close()


def writable(entity: Entity) -> dict[str, Value]:
    """The properties as a caller that ignores their type would write to them."""
    return cast(dict[str, Value], entity.properties)


async def test_a_hit_is_the_cached_entity_itself(cached: CachedStore) -> None:
    [first] = await cached.get_many([PHOTO.key])
    [again] = await cached.get_many([PHOTO.key])
    [third] = await cached.get_many([PHOTO.key])
    assert again is third  # nothing decoded on a hit
    assert again is not None
    assert again == first
    assert again.properties == models.photo_to_entity(PHOTO).properties
    assert cached.hits == 2


async def test_a_cached_entity_cannot_be_changed(cached: CachedStore) -> None:
    [filled] = await cached.get_many([PHOTO.key])
    assert filled is not None
    writable(filled)["caption"] = "changed by the reader that filled the cache"
    [hit] = await cached.get_many([PHOTO.key])
    assert hit is not None
    assert hit.properties["caption"] == "as stored"
    with pytest.raises(TypeError):
        writable(hit)["caption"] = "changed by a reader that hit"
    [again] = await cached.get_many([PHOTO.key])
    assert again is not None
    assert again.properties["caption"] == "as stored"


async def test_a_cached_page_cannot_be_changed(cached: CachedStore) -> None:
    filled = await cached.page(PHOTOS, limit=2)
    writable(filled[0].entity)["caption"] = "changed by the reader that filled the cache"
    hit = await cached.page(PHOTOS, limit=2)
    assert [r.entity.properties["caption"] for r in hit] == ["as stored"]
    hit.clear()
    with pytest.raises(TypeError):
        writable((await cached.page(PHOTOS, limit=2))[0].entity)["caption"] = "changed"
    again = await cached.page(PHOTOS, limit=2)
    assert [r.entity.properties["caption"] for r in again] == ["as stored"]
    assert again[0].entity is (await cached.page(PHOTOS, limit=2))[0].entity
    assert cached.hits == 4


async def test_absent_entities_are_cached_too(cached: CachedStore) -> None:
    unknown = models.user_key("nobody")
    assert await cached.get_many([unknown]) == [None]
    trips = cached.round_trips
    assert await cached.get_many([unknown, unknown]) == [None, None]
    assert cached.round_trips == trips


async def test_an_entity_with_a_list_is_decoded_on_each_hit(cached: CachedStore) -> None:
    # A list inside a read-only mapping could still be changed: kept as bytes.
    key = Key.of(models.USER, "listed")
    await cached.put_many([Entity(key, {"username": "listed", "tags": ["a", "b"]})])
    [filled] = await cached.get_many([key])
    assert filled is not None
    [hit] = await cached.get_many([key])
    assert hit is not None
    assert hit is not filled
    tags = hit.properties["tags"]
    assert isinstance(tags, list)
    tags.append("changed by a reader")
    [again] = await cached.get_many([key])
    assert again is not None
    assert again.properties["tags"] == ["a", "b"]
    assert cached.hits == 2


async def test_keys_in_any_order_kind_and_number(cached: CachedStore) -> None:
    note = Entity(Key.of("Note", "n1"), {"text": "not a cached kind"})
    await cached.put_many([note])
    nobody = models.user_key("nobody")
    asked = [PHOTO.key, note.key, nobody, PHOTO.key, note.key]
    for _ in range(2):  # cold, then the cached keys warm
        trips = cached.round_trips
        found = await cached.get_many(asked)
        assert cached.round_trips == trips + 1
        assert [e.key if e else None for e in found] == [
            PHOTO.key,
            note.key,
            None,
            PHOTO.key,
            note.key,
        ]
    distinct = await cached.get_many([note.key, nobody, PHOTO.key])
    assert [e.key if e else None for e in distinct] == [note.key, None, PHOTO.key]
    trips = cached.round_trips
    found = await cached.get_many([nobody, PHOTO.key, nobody])
    assert cached.round_trips == trips
    assert [e.key if e else None for e in found] == [None, PHOTO.key, None]
    assert [e.key if e else None for e in await cached.get_many([PHOTO.key, nobody])] == [
        PHOTO.key,
        None,
    ]


async def test_a_cached_entity_keeps_the_models_made_from_it(cached: CachedStore) -> None:
    await cached.get_many([PHOTO.key])  # fills
    await cached.page(PHOTOS, limit=2)
    [hit] = await cached.get_many([PHOTO.key])
    assert hit is not None
    assert models.photo_from_entity(hit) is models.photo_from_entity(hit)
    assert models.photo_from_entity(hit) == PHOTO
    page = await cached.page(PHOTOS, limit=2)
    assert models.photo_from_entity(page[0].entity) is models.photo_from_entity(
        (await cached.page(PHOTOS, limit=2))[0].entity
    )
    # An entity that may change keeps nothing, nor does a copy of a cached one.
    stored = models.photo_to_entity(PHOTO)
    assert models.photo_from_entity(stored) is not models.photo_from_entity(stored)
    changed = replace(hit, properties={**hit.properties, "caption": "a copy"})
    assert models.photo_from_entity(changed).caption == "a copy"
    # A write ends the cached entity, and with it its models.
    await cached.put_many([models.photo_to_entity(replace(PHOTO, caption="rewritten"))])
    [after] = await cached.get_many([PHOTO.key])
    assert after is not None
    assert models.photo_from_entity(after).caption == "rewritten"
    assert models.photo_from_entity((await cached.page(PHOTOS, limit=2))[0].entity) == replace(
        PHOTO, caption="rewritten"
    )


async def test_a_cached_feed_item_keeps_what_it_names(cached: CachedStore) -> None:
    """A warm home page reads each item's photo, owner and extra keys from the
    cached FeedItem (resolvers/feed.py `FeedRef`), not from its name parsed again."""
    await cached.put_many([social_models.feed_item("viewer", PHOTO.key, PHOTO.sort_key)])
    query = feed.feed_query("viewer")
    [first] = await cached.page(query, limit=21)  # read from the store, then kept
    [again] = await cached.page(query, limit=21)  # the kept item
    ref = feed.feed_ref(again.entity)
    assert ref is feed.feed_ref((await cached.page(query, limit=21))[0].entity)
    assert (ref.photo, ref.owner_id) == (PHOTO.key, "owner")
    assert ref.extras[0] == social_models.like_key("viewer", PHOTO.key)
    # The item as read from the store keeps nothing: made again each time, equal.
    assert feed.feed_ref(first.entity) is not feed.feed_ref(first.entity)
    assert feed.feed_ref(first.entity) == ref
