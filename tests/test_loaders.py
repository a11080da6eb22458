"""The request's loaders (resolvers/loaders.py): a user the request has read is
decoded once for all the photos it owns, and decoded again when the request reads
a newer entity of it."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from inspect import isawaitable
from pathlib import Path

import pytest

from resolvers.loaders import Loaders
from store import models
from store.sqlite import SQLiteStore
from tests.utils.builders import make_user


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "loaders.db")
    yield store
    await store.close()


async def test_a_read_user_is_decoded_once_and_again_when_its_entity_changes(
    store: SQLiteStore,
) -> None:
    alice = await make_user(store, "alice")
    loaders = Loaders(store)
    pending = loaders.user_now(alice.id)
    assert isawaitable(pending)  # not read yet
    assert await pending == alice

    first = loaders.user_now(alice.id)
    assert first == alice
    assert loaders.user_now(alice.id) is first  # one decoding for every later field

    renamed = dataclasses.replace(alice, display_name="Alice Renamed")
    loaders.prime(models.user_to_entity(renamed))
    assert loaders.user_now(alice.id) == renamed

    nobody = loaders.user_now("id-nobody")
    assert isawaitable(nobody)
    assert await nobody is None
    assert loaders.user_now("id-nobody") is None  # read: known absent, at once
