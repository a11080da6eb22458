"""Per-request DataLoaders: everything a request needs by key costs one batched get.

A fresh set is made for every request, so nothing cached outlives the request
that read it (no cross-user leaks, no stale reads across requests). What outlives
requests is the cache below the store port (cache/store.py), invalidated on write.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiodataloader import DataLoader

from store.keys import Key
from store.models import User, user_from_entity, user_key
from store.port import Entity, Store


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
        self.entities = EntityLoader(store)

    async def entity(self, key: Key) -> Entity | None:
        if key in self._known:
            return self._known[key]
        found: Entity | None = await self.entities.load(key)
        return found

    async def many(self, keys: Sequence[Key]) -> list[Entity | None]:
        """`entity` for several keys: straight from what a page prefetched when it
        can (no future per key), else one batched load."""
        if all(key in self._known for key in keys):
            return [self._known[key] for key in keys]
        found: list[Entity | None] = await self.entities.load_many(keys)
        return found

    async def user(self, user_id: str) -> User | None:
        entity = await self.entity(user_key(user_id))
        return user_from_entity(entity) if entity else None

    def prime(self, entity: Entity) -> None:
        self.entities.prime(entity.key, entity)

    async def fetch_and_prime(self, keys: Sequence[Key]) -> dict[Key, Entity | None]:
        """One get for `keys` (those not loaded already), its results primed into
        the loader, so that later loads of any of them cost nothing."""
        unique = list(dict.fromkeys(keys))
        missing = [key for key in unique if key not in self._known]
        for key, entity in zip(missing, await self._store.get_many(missing), strict=True):
            self._known[key] = entity
            self.entities.prime(key, entity)
        return {key: self._known.get(key) for key in unique}
