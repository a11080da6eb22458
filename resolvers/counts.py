"""Reading counters (store/counters.py) through the request's DataLoader: one key
a count, and every count on a page shares one batched get."""

from __future__ import annotations

from resolvers.loaders import Loaders, Maybe
from store import counters
from store.keys import Key


def read(loaders: Loaders, counter: Key) -> Maybe[int]:
    """The count whose total is at `counter` (counters.key_of): at once when it is
    loaded (a feed page prefetches it)."""
    return loaders.entity_then(counter, counters.value)
