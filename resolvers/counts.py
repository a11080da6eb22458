"""Reading counters (store/counters.py) through the request's DataLoader: one key
a count, and every count on a page shares one batched get."""

from __future__ import annotations

from resolvers.loaders import Loaders, Maybe, then
from store import counters


def read(loaders: Loaders, name: str) -> Maybe[int]:
    """At once when the total is loaded (a feed page prefetches it)."""
    return then(loaders.entity_now(counters.counter_key(name)), counters.value)
