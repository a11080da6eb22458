"""Per-request DataLoaders: everything a request needs by key costs one batched get.

A fresh set is made for every request, so nothing cached outlives the request
that read it (no cross-user leaks, no stale reads across requests).
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
        self.entities = EntityLoader(store)

    async def entity(self, key: Key) -> Entity | None:
        found: Entity | None = await self.entities.load(key)
        return found

    async def user(self, user_id: str) -> User | None:
        entity = await self.entity(user_key(user_id))
        return user_from_entity(entity) if entity else None

    def prime(self, entity: Entity) -> None:
        self.entities.prime(entity.key, entity)
