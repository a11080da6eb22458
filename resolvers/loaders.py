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

from asyncio import Future, ensure_future, get_event_loop
from collections.abc import Awaitable, Callable, Iterable, Sequence
from enum import Enum
from inspect import isawaitable
from typing import TypeAlias, TypeVar, cast

from aiodataloader import DataLoader, Loader, dispatch_queue_batch

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
    """Key -> Entity | None, for any kind; keys asked for in one tick share a get.

    One is made for every request, and most requests load a key or two, so it
    costs less than a DataLoader of aiodataloader (pinned: 0.4.3) in two places:
    - made: DataLoader's constructor checks the arguments a loader may be given
      (that its batch function is a coroutine function: this one's is) and sets
      the defaults, which are what this loader sets here;
    - each batch: aiodataloader takes the queue off in one Task (started at the
      turn of the loop after the first load) and runs the batch in another; here
      the Task that takes the queue off runs the batch (its own dispatch_queue_batch,
      so failures reach the futures as before). The same keys share a batch: the
      queue is taken at the same turn; the batch answers one turn sooner.
    """

    def __init__(self, store: Store) -> None:
        # DataLoader.__init__ without an argument, less its checks.
        self.loop = get_event_loop()
        self.get_cache_key = _same_key
        self._cache = {}
        self._queue = []
        self._store = store

    def do_resolve_reject(self, key: Key, future: Future[Entity | None]) -> None:
        # As DataLoader's (batch on, no max_batch_size), with the dispatch below.
        self._queue.append(Loader(key=key, future=future))
        if len(self._queue) == 1:
            self.loop.call_soon(ensure_future, self._dispatch())

    async def _dispatch(self) -> None:
        queue, self._queue = self._queue, []
        await dispatch_queue_batch(self, queue)

    async def batch_load_fn(self, keys: Sequence[Key]) -> list[Entity | None]:
        return await self._store.get_many(list(keys))


def _same_key(key: Key) -> Key:
    return key


class Loaders:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._known: dict[Key, Entity | None] = {}
        # Users decoded from the entities in `_known` (each Photo's owner on a page
        # is mostly the same few users), with the entity each was decoded from.
        # By id: a str's hash is kept, a Key's is a Python call each time.
        self._users: dict[str, tuple[Entity, User]] = {}
        # What fields show of those users (`shown`), by view and user id.
        self._shown: dict[tuple[Callable[[User], object], str], tuple[User, object]] = {}
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
        decoded = self._users.get(user_id)
        if decoded is None or decoded[0] is not entity:
            decoded = self._users[user_id] = (entity, user_from_entity(entity))
        return decoded[1]

    def shown(self, user: User, view: Callable[[User], T]) -> T:
        """`view(user)`, made once a request for each user and view: the owners of
        a page's photos are mostly the same few, and each photo's `owner` shows
        them the same way (the User `user_now` answers is the same object each time)."""
        at = (view, user.id)
        found = self._shown.get(at)
        if found is None or found[0] is not user:
            found = self._shown[at] = (user, view(user))
        return cast(T, found[1])

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
        keep = known.setdefault  # one hash a key (a Key's is a Python call)
        for key, entity in zip(primed, found, strict=False):
            keep(key, entity)
        return found

    async def fetch_and_prime(self, keys: Sequence[Key]) -> None:
        """One get, straight to the store, for those of `keys` the request has not
        read yet, kept as `fetch_priming` keeps them: for keys known at once (a
        root field's ids, a mutation's check), without a DataLoader's two turns
        of the event loop."""
        missing = self.unknown(keys)
        if missing:
            await self.fetch_priming(missing, ())

    def prime_written(self, puts: Iterable[Entity], deletes: Iterable[Key]) -> None:
        """What a transaction of this request committed: the request's later reads
        of those keys (a mutation's answer) are answered from here, as written."""
        known = self._known
        known.update((entity.key, entity) for entity in puts)
        known.update((key, None) for key in deletes)

    def loaded(self, key: Key) -> Entity | None:
        """What the request read at `key` (None: absent, or not read)."""
        return self._known.get(key)


def _user_or_none(entity: Entity | None) -> User | None:
    return user_from_entity(entity) if entity else None


def exists(entity: Entity | None) -> bool:
    return entity is not None
