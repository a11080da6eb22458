"""The request's loaders (resolvers/loaders.py): a user the request has read is
decoded once for all the photos it owns, and decoded again when the request reads
a newer entity of it; what fields show of a user is made once a request; the keys
loaded in one turn of the loop share one get, run by one Task."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Coroutine, Sequence
from inspect import isawaitable
from pathlib import Path
from typing import Any

import pytest

from resolvers.loaders import Loaders
from store import models
from store.errors import StoreUnavailable
from store.keys import Key
from store.port import Entity
from store.sqlite import SQLiteStore
from tests.utils.builders import make_user
from tests.utils.delegating_store import DelegatingStore


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


async def test_a_view_of_a_user_is_made_once_a_request_for_each_user_object(
    store: SQLiteStore,
) -> None:
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    loaders = Loaders(store)
    made: list[str] = []

    def view(user: models.User) -> dict[str, str]:
        made.append(user.id)
        return {"name": user.username}

    def other_view(user: models.User) -> str:
        return user.username.upper()

    shown = loaders.shown(alice, view)
    assert shown == {"name": "alice"}
    assert loaders.shown(alice, view) is shown  # the second photo of alice's
    assert loaders.shown(bob, view) == {"name": "bob"}
    assert loaders.shown(alice, other_view) == "ALICE"  # each view its own
    assert made == [alice.id, bob.id]

    renamed = dataclasses.replace(alice, username="alicia")  # read again, newer
    assert loaders.shown(renamed, view) == {"name": "alicia"}
    assert made == [alice.id, bob.id, alice.id]


class _Gets(DelegatingStore):
    """Counts get_many calls, and fails the next one when asked to."""

    def __init__(self, inner: SQLiteStore) -> None:
        super().__init__(inner)
        self.gets: list[list[Key]] = []
        self.fail_next = False

    async def get_many(self, keys: Sequence[Key]) -> list[Entity | None]:
        self.gets.append(list(keys))
        if self.fail_next:
            self.fail_next = False
            raise StoreUnavailable("down for a moment")
        return await super().get_many(keys)


@pytest.fixture
async def tasks_made() -> AsyncIterator[list[object]]:
    """The Tasks the running loop makes from here on."""
    loop = asyncio.get_running_loop()
    made: list[object] = []

    def factory(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], **kw: Any) -> Any:
        made.append(coro)
        return asyncio.Task(coro, loop=loop, **kw)

    previous = loop.get_task_factory()
    loop.set_task_factory(factory)  # type: ignore[arg-type]
    yield made
    loop.set_task_factory(previous)


async def test_the_keys_of_one_turn_share_one_get_run_by_one_task(
    store: SQLiteStore, tasks_made: list[object]
) -> None:
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    gets = _Gets(store)
    loaders = Loaders(gets)
    keys = [alice.key, bob.key, models.user_key("id-nobody")]
    before = len(tasks_made)  # (the test's own, among them)
    users = await asyncio.gather(*(loaders.entities.load(key) for key in keys))
    assert [u.key if u else None for u in users] == [alice.key, bob.key, None]
    assert gets.gets == [keys]
    assert len(tasks_made) - before == 1  # aiodataloader's own dispatch makes two
    assert await loaders.entities.load(alice.key) is users[0]  # cached for the request
    assert gets.gets == [keys]


async def test_a_failed_get_fails_each_of_its_loads_and_is_not_kept(store: SQLiteStore) -> None:
    alice = await make_user(store, "alice")
    gets = _Gets(store)
    gets.fail_next = True
    loaders = Loaders(gets)
    failed = await asyncio.gather(
        loaders.entities.load(alice.key),
        loaders.entities.load(models.user_key("id-nobody")),
        return_exceptions=True,
    )
    assert [type(error) for error in failed] == [StoreUnavailable, StoreUnavailable]
    entity = await loaders.entities.load(alice.key)  # read again, not the failure
    assert entity is not None
    assert entity.key == alice.key
    assert len(gets.gets) == 2
