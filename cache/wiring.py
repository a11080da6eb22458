"""Choosing the cache from settings (called by app.create_app)."""

from __future__ import annotations

from cache.codec import FORMAT
from cache.guard import GuardedCache
from cache.memory import MemoryCache
from cache.port import Cache
from cache.store import CachedStore
from settings import Settings
from store.port import Store


def cache_from_settings(settings: Settings) -> Cache | None:
    options = settings.cache
    if options.backend == "memory":
        return MemoryCache(options.max_entries)
    if options.backend == "redis" and options.redis_url:
        from cache.redis import RedisCache

        redis = RedisCache(
            options.redis_url, ttl_seconds=options.ttl_seconds, prefix=key_prefix(settings)
        )
        return GuardedCache(redis, name="redis")
    return None


def key_prefix(settings: Settings) -> str:
    """What the store is, so that stores sharing one Redis never share entries."""
    if settings.store == "datastore":
        where = f"{settings.datastore_project}/{settings.datastore_namespace or ''}"
    else:
        where = str(settings.sqlite_path.resolve())
    return f"timeline:{FORMAT}:{settings.store}:{where}:"


def cached_store(store: Store, settings: Settings) -> Store:
    cache = cache_from_settings(settings)
    return store if cache is None else CachedStore(store, cache)


def past_the_cache(store: Store) -> Store:
    """`store` as background work (tasks, cron jobs) reads it: from the store itself,
    since it acts on what it reads (cache/store.py); its writes still invalidate."""
    return store.past_the_cache() if isinstance(store, CachedStore) else store
