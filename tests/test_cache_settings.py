"""TIMELINE_CACHE and TIMELINE_REDIS_URL: memory on one machine, Redis or nothing in
production (a per-instance cache would miss the other instances' writes)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from app import create_app
from cache.guard import GuardedCache
from cache.memory import MemoryCache
from cache.redis import RedisCache
from cache.store import CachedStore
from cache.wiring import key_prefix
from settings import CacheSettings, Settings, SettingsError, load_settings
from tests.test_settings import PRODUCTION


def local(tmp_path: Path, **variables: str) -> Settings:
    return load_settings({"TIMELINE_ENV": "local", "TIMELINE_VAR_DIR": str(tmp_path), **variables})


def test_one_machine_caches_in_memory_by_default(tmp_path: Path) -> None:
    assert local(tmp_path).cache == CacheSettings(backend="memory")
    sized = local(tmp_path, TIMELINE_CACHE_MAX_ENTRIES="50", TIMELINE_CACHE_TTL_SECONDS="9")
    assert (sized.cache.max_entries, sized.cache.ttl_seconds) == (50, 9)


def test_a_redis_url_chooses_redis_and_production_without_one_caches_nothing(
    tmp_path: Path,
) -> None:
    url = "redis://10.0.0.3:6379/0"
    assert local(tmp_path, TIMELINE_REDIS_URL=url).cache.backend == "redis"
    assert load_settings(PRODUCTION).cache.backend == "off"
    production = load_settings({**PRODUCTION, "TIMELINE_REDIS_URL": url})
    assert (production.cache.backend, production.cache.redis_url) == ("redis", url)
    assert local(tmp_path, TIMELINE_CACHE="off").cache.backend == "off"


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"TIMELINE_CACHE": "memcache"}, "TIMELINE_CACHE must be"),
        ({"TIMELINE_CACHE": "redis"}, "needs TIMELINE_REDIS_URL"),
        ({"TIMELINE_REDIS_URL": "http://10.0.0.3"}, "redis://"),
        ({"TIMELINE_CACHE_MAX_ENTRIES": "1"}, "TIMELINE_CACHE_MAX_ENTRIES must be at least 2"),
        ({"TIMELINE_CACHE_TTL_SECONDS": "soon"}, "TIMELINE_CACHE_TTL_SECONDS must be a whole"),
    ],
)
def test_malformed_cache_settings_name_the_variable(
    tmp_path: Path, variables: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        local(tmp_path, **variables)


def test_production_refuses_a_per_instance_cache() -> None:
    with pytest.raises(SettingsError, match="other instances' writes"):
        load_settings({**PRODUCTION, "TIMELINE_CACHE": "memory"})


def test_the_app_factory_wraps_the_store_in_the_chosen_cache(settings: Settings) -> None:
    memory = create_app(settings).state.store
    assert isinstance(memory, CachedStore)
    assert isinstance(memory.cache, MemoryCache)
    redis_settings = dataclasses.replace(
        settings, cache=CacheSettings(backend="redis", redis_url="redis://127.0.0.1:1/0")
    )
    redis = create_app(redis_settings).state.store
    assert isinstance(redis, CachedStore)
    assert isinstance(redis.cache, GuardedCache)
    assert isinstance(redis.cache.inner, RedisCache)
    off = dataclasses.replace(settings, cache=CacheSettings(backend="off"))
    assert not isinstance(create_app(off).state.store, CachedStore)


def test_stores_sharing_one_redis_never_share_keys(settings: Settings) -> None:
    other_file = dataclasses.replace(settings, sqlite_path=settings.var_dir / "other.db")
    datastore = dataclasses.replace(settings, store="datastore", datastore_project="p")
    namespaced = dataclasses.replace(datastore, datastore_namespace="staging")
    prefixes = {key_prefix(s) for s in (settings, other_file, datastore, namespaced)}
    assert len(prefixes) == 4
