"""Reading sharded counters (store/counters.py) through the request's DataLoader,
so every count on a page shares one batched get."""

from __future__ import annotations

from resolvers.loaders import Loaders, Maybe, then
from store import counters


def read(loaders: Loaders, name: str) -> Maybe[int]:
    """At once when the shards are loaded (a feed page prefetches them)."""
    return then(loaders.many_now(counters.shard_keys(name)), counters.total)
