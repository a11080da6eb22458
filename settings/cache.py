"""The read-through cache (cache/): in this process, on Redis (Memorystore), or off."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from settings.variables import Reader, Section, Variable, choice, url, whole

CacheBackend = Literal["memory", "redis", "off"]


@dataclass(frozen=True)
class CacheSettings:
    """The read-through cache (cache/): in this process, on Redis (Memorystore), or off."""

    backend: CacheBackend = "memory"
    redis_url: str | None = None  # redis://host:port/db, rediss:// or unix://
    max_entries: int = 50_000  # memory: generations and values together
    ttl_seconds: int = 300  # redis: how long a value lives if nothing invalidates it


CACHE = Variable(
    "CACHE",
    choice("memory", "redis", "off"),
    "the cache; memory is refused in production, where other instances' writes would "
    "not invalidate it, and locally runs alone on the embedded file (serve --workers N "
    "sets off)",
    shown_default="redis with TIMELINE_REDIS_URL; else local: memory, production: off",
)
REDIS_URL = Variable(
    "REDIS_URL",
    url("redis", "rediss", "unix"),
    "redis: the server (Memorystore), redis://host:port/db",
    required="TIMELINE_CACHE=redis",
)
CACHE_MAX_ENTRIES = Variable(
    "CACHE_MAX_ENTRIES",
    whole(2),
    (
        "memory: entries kept, generations and values together;"
        " a cached page counts one per item it lists, plus one"
    ),
    default=str(CacheSettings.max_entries),
)
CACHE_TTL_SECONDS = Variable(
    "CACHE_TTL_SECONDS",
    whole(2),
    "redis: how long a value lives if nothing invalidates it",
    default=str(CacheSettings.ttl_seconds),
)
SECTION = Section(
    "Cache",
    "The read-through cache in front of the store.",
    (CACHE, REDIS_URL, CACHE_MAX_ENTRIES, CACHE_TTL_SECONDS),
)


def load_cache_settings(reader: Reader) -> CacheSettings:
    redis_url = reader.optional(REDIS_URL)
    named = reader.text(REDIS_URL)  # a malformed URL still means redis was asked for
    backend = reader.optional(CACHE) or (
        "redis" if named else "off" if reader.production else "memory"
    )
    if reader.production and backend == "memory":
        reader.refuse(
            f"{CACHE.env_name}=memory keeps a cache per instance that other instances' writes "
            f"do not invalidate; use redis ({REDIS_URL.env_name}) or off"
        )
    if backend == "redis" and not named:
        reader.refuse(f"{CACHE.env_name}=redis needs {REDIS_URL.env_name}")
    return CacheSettings(
        backend=backend,  # type: ignore[arg-type]
        redis_url=redis_url,
        max_entries=reader.value(CACHE_MAX_ENTRIES),
        ttl_seconds=reader.value(CACHE_TTL_SECONDS),
    )
