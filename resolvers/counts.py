"""Reading sharded counters (store/counters.py) through the request's DataLoader,
so every count on a page shares one batched get."""

from __future__ import annotations

from resolvers.loaders import Loaders
from store import counters


async def read(loaders: Loaders, name: str) -> int:
    return counters.total(await loaders.many(counters.shard_keys(name)))
