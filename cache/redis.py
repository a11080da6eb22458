"""The cache on Redis (Memorystore in production), over redis-py's asyncio client.

    <prefix>g:<generation key>   a generation token, expiring after 2 x ttl
    <prefix>v:<value key>        token + value, expiring after ttl

A lookup is one MGET of every slot's generation and value (MGET is atomic, so the
two are seen at one moment); a slot whose generation is missing gets one made
with SET NX in a second round trip, and whoever won that race is the generation
to fill under. Invalidation deletes generations. Every instance sharing the Redis
shares the generations, so a write on one is seen by reads on all of them.

Errors are not handled here: cache/guard.py turns them into misses. Timeouts are
short and there are no retries, since the store can always answer instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from cache.port import Fill, Found, Slot, new_generation

DEFAULT_TTL_SECONDS = 300
TIMEOUT_SECONDS = 0.5
_TOKEN_BYTES = len(new_generation())


class RedisCache:
    keeps_objects = False  # shared with other processes: bytes only

    def __init__(
        self,
        url: str,
        *,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        prefix: str = "timeline:",
        timeout_seconds: float = TIMEOUT_SECONDS,
    ) -> None:
        self._redis = Redis.from_url(
            url,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            retry=Retry(NoBackoff(), 0),
        )
        self._ttl = ttl_seconds
        self._prefix = prefix

    def _generation_key(self, key: str) -> str:
        return f"{self._prefix}g:{key}"

    def _value_key(self, key: str) -> str:
        return f"{self._prefix}v:{key}"

    async def lookup(self, slots: Sequence[Slot]) -> list[Found]:
        if not slots:
            return []
        generation_keys = list(dict.fromkeys(self._generation_key(s.generation) for s in slots))
        value_keys = [self._value_key(slot.value) for slot in slots]
        raw = _bytes(await self._redis.mget([*generation_keys, *value_keys]))
        tokens = raw[: len(generation_keys)]
        current = {
            key: token.decode() for key, token in zip(generation_keys, tokens, strict=True) if token
        }
        missing = [key for key in generation_keys if key not in current]
        if missing:
            current.update(await self._make_generations(missing))
        found = []
        for slot, stamped in zip(slots, raw[len(generation_keys) :], strict=True):
            generation = current.get(self._generation_key(slot.generation))
            if generation is not None and stamped and stamped[:_TOKEN_BYTES].decode() == generation:
                found.append(Found(generation, stamped[_TOKEN_BYTES:]))
            else:
                found.append(Found(generation))
        return found

    async def _make_generations(self, keys: list[str]) -> dict[str, str]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.set(key, new_generation(), nx=True, ex=2 * self._ttl)
            pipe.mget(keys)
            *_, winners = await pipe.execute()
        # A generation deleted between the SET and the MGET is None: no fill then.
        tokens = _bytes(winners)
        return {key: token.decode() for key, token in zip(keys, tokens, strict=True) if token}

    async def fill(self, fills: Sequence[Fill]) -> None:
        if not fills:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for fill in fills:
                if not isinstance(fill.value, bytes):
                    raise TypeError(f"Redis keeps bytes, not {type(fill.value).__name__}")
                stamped = fill.generation.encode() + fill.value
                pipe.set(self._value_key(fill.slot.value), stamped, ex=self._ttl)
            await pipe.execute()

    async def invalidate(self, generations: Sequence[str]) -> None:
        if generations:
            await self._redis.delete(*(self._generation_key(key) for key in generations))

    async def close(self) -> None:
        await self._redis.aclose()


def _bytes(values: list[Any]) -> list[bytes | None]:
    """Replies as bytes (the client does not decode responses)."""
    return [value if isinstance(value, bytes) else None for value in values]
