"""Per-request DataLoaders: everything a request needs by key costs one batched get.

A fresh set is made for every request, so nothing cached outlives the request
that read it (no cross-user leaks, no stale reads across requests). What outlives
requests is the cache below the store port (cache/store.py), invalidated on write.

What the request has already read (a page's prefetch, a primed entity) is
answered without a coroutine: `loaded`, `entity_then` and `user_now` (a
`Maybe`) let a field return its value at once, and graphql-core then completes
it without a Task.
Only what is not loaded yet costs an await (and a batched get).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from enum import Enum
from inspect import isawaitable
from typing import TypeAlias, TypeVar, cast

from aiodataloader import DataLoader

from store.keys import Key
from store.models import User, user_from_entity, user_key
from store.port import Entity, Store

T = TypeVar("T")
U = TypeVar("U")
# A value now, or an awaitable for it when it must be read first; a resolver may
# return either (graphql-core awaits only what is awaitable).
Maybe: TypeAlias = T | Awaitable[T]


# What the loaders answer with once read (entities, a counter's shards, absences,
# users): never awaitable, known without inspect.isawaitable's isinstance checks
# (~1 µs for a class the Awaitable ABC has to look through).
_NEVER_AWAITABLE = frozenset({list, type(None), Entity, User})


def then(value: Maybe[T], convert: Callable[[T], U]) -> Maybe[U]:
    """`convert` applied to `value`: at once when it is here, after the await if not."""
    if type(value) not in _NEVER_AWAITABLE and isawaitable(value):
        return _then(value, convert)
    return convert(cast(T, value))


async def _then(value: Awaitable[T], convert: Callable[[T], U]) -> U:
    return convert(await value)


class _NotLoaded(Enum):
    TOKEN = 0


_NOT_LOADED = _NotLoaded.TOKEN


class EntityLoader(DataLoader[Key, Entity | None]):
    """Key -> Entity | None, for any kind; keys asked for in one tick share a get."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self._store = store

    async def batch_load_fn(self, keys: Sequence[Key]) -> list[Entity | None]:
        return await self._store.get_many(list(keys))


class Loaders:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._known: dict[Key, Entity | None] = {}
        # Users decoded from the entities in `_known` (each Photo's owner on a page
        # is mostly the same few users), with the entity each was decoded from.
        self._users: dict[Key, tuple[Entity, User]] = {}
        self.entities = EntityLoader(store)

    def entity_then(self, key: Key, convert: Callable[[Entity | None], T]) -> Maybe[T]:
        """`convert` applied to the entity at `key`: at once when the request has
        read it already (no coroutine, and no question whether the value is
        awaitable: a page's fields ask this of every photo), after a load if not."""
        found = self._known.get(key, _NOT_LOADED)
        if found is _NOT_LOADED:
            return _then(self.entity(key), convert)
        return convert(found)

    async def entity(self, key: Key) -> Entity | None:
        if key not in self._known:
            self._known[key] = await self.entities.load(key)
        return self._known[key]

    async def many(self, keys: Sequence[Key]) -> list[Entity | None]:
        """`entity` for several keys: straight from what the request has read when
        it can (no future per key), the rest in one batched load."""
        known = self._known
        unique = dict.fromkeys(keys)
        # A page's prefetch usually comes first: nothing to leave out then.
        missing = [key for key in unique if key not in known] if known else list(unique)
        if missing:
            known.update(zip(missing, await self.entities.load_many(missing), strict=True))
        return [known[key] for key in keys]

    async def user(self, user_id: str) -> User | None:
        return _user_or_none(await self.entity(user_key(user_id)))

    def user_now(self, user_id: str) -> Maybe[User | None]:
        key = user_key(user_id)
        entity = self._known.get(key, _NOT_LOADED)
        if entity is _NOT_LOADED:
            return then(self.entity(key), _user_or_none)
        if entity is None:
            return None
        decoded = self._users.get(key)
        if decoded is None or decoded[0] is not entity:
            decoded = self._users[key] = (entity, user_from_entity(entity))
        return decoded[1]

    def unknown(self, keys: Sequence[Key]) -> list[Key]:
        """Those of `keys` the request has not read yet, once each."""
        known = self._known
        return [key for key in dict.fromkeys(keys) if key not in known]

    def prime(self, entity: Entity) -> None:
        self._known[entity.key] = entity

    async def fetch_priming(
        self, primed: Sequence[Key], read: Sequence[Key]
    ) -> list[Entity | None]:
        """One get for `primed` and `read` (each key once): what it found, in their
        order. What it found at `primed` is kept (where the request had not read it
        yet), so that later loads of those keys cost nothing (and no DataLoader
        future each): `loaded`, `entity_then` and `user_now` answer them at once.
        What only the caller needs (a page's counts, say) is not kept."""
        found = await self._store.get_many([*primed, *read])
        known = self._known
        for key, entity in zip(primed, found, strict=False):
            if key not in known:
                known[key] = entity
        return found

    def loaded(self, key: Key) -> Entity | None:
        """What the request read at `key` (None: absent, or not read)."""
        return self._known.get(key)


def _user_or_none(entity: Entity | None) -> User | None:
    return user_from_entity(entity) if entity else None


def exists(entity: Entity | None) -> bool:
    return entity is not None
