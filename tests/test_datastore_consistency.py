"""What the entity-group design promises on Datastore, under eventual consistency.

The emulator runs with --consistency=0.05: a global query sees a fresh write only
now and then, as on legacy Datastore. A user's own photos are an ancestor query,
which must reflect that user's write at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from app import create_app
from settings import CacheSettings, Settings
from store import models
from store.datastore import DatastoreStore
from tests.conftest import graphql
from tests.utils.builders import make_user, photo_at
from tests.utils.clients import serving
from tests.utils.datastore_emulator import PROJECT_ID, DatastoreEmulator
from tests.utils.paging import captions, photos_page, walk_forward


@pytest.fixture
async def eventual_store(
    eventual_datastore_emulator: DatastoreEmulator,
) -> AsyncIterator[DatastoreStore]:
    eventual_datastore_emulator.reset()
    store = DatastoreStore(PROJECT_ID, client=eventual_datastore_emulator.client())
    yield store
    await store.close()


@pytest.fixture
async def eventual_client(
    eventual_store: DatastoreStore, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    # No cache: the tests write to the store behind the app's back, and what they
    # watch is Datastore's own consistency.
    app = create_app(replace(settings, cache=CacheSettings(backend="off")), store=eventual_store)
    async with serving(app, "http://t") as http:
        yield http


async def test_own_photos_reflect_each_write_immediately(
    eventual_client: httpx.AsyncClient, eventual_store: DatastoreStore
) -> None:
    alice = await make_user(eventual_store, "alice")
    global_misses = 0
    for n in range(20):
        photo = photo_at(alice, n)
        await eventual_store.put_many([models.photo_to_entity(photo)])
        # The global query goes first: a strongly consistent read of the group
        # applies its pending writes, which would hide the effect.
        body = await graphql(eventual_client, "{ photos(first: 1) { edges { node { caption } } } }")
        newest = [e["node"]["caption"] for e in body["data"]["photos"]["edges"]]
        global_misses += newest != [photo.caption]
        page = await photos_page(eventual_client, "alice", first=1)
        assert captions(page) == [photo.caption]
    # The global query is the eventually consistent one: proof that the emulator
    # really is simulating it, so the ancestor-query assertion above means something.
    assert global_misses > 0


async def test_datastore_adapter_honours_the_emulator_variable(
    datastore_emulator: DatastoreEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    datastore_emulator.reset()
    monkeypatch.setenv("DATASTORE_EMULATOR_HOST", datastore_emulator.host)
    store = DatastoreStore(PROJECT_ID)
    try:
        user = await make_user(store, "dora")
        assert await store.get_many([user.key]) != [None]
    finally:
        await store.close()


async def test_paging_own_photos_right_after_writing_them(
    eventual_client: httpx.AsyncClient, eventual_store: DatastoreStore
) -> None:
    alice = await make_user(eventual_store, "alice")
    photos = [photo_at(alice, n) for n in range(9)]
    await eventual_store.put_many([models.photo_to_entity(p) for p in photos])
    walked = await walk_forward(eventual_client, "alice", 2)
    assert walked == [p.caption for p in reversed(photos)]
