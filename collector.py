"""The cyclic garbage collector in a server process: full collections that do not
walk what lives long.

A full collection walks every object the collector tracks. In a server most of
them live as long as the process (modules, the schema, the app) or close to it
(the in-process cache's entities, pages and generations, up to its 50,000
entries, and the lookup memos beside it), so with the cache filling, each full
collection took longer, paused every request in flight for that long, and cost
more a request: 0.10 s early in `bench_load`'s mixed load, 0.28 s a minute in
(docs/PERFORMANCE.md).

`freeze_survivors` moves what survived a full collection out of the collector's
sight (`gc.freeze`): the next full collections walk only what was made since,
most of it the requests' short-lived cycles, whatever the cache holds. Frozen
objects are still freed by reference counting, as the cache's evicted entries
are; what a freeze cannot free is a cycle that was alive when frozen and died
later (what the requests in flight at that moment left in cycles: since their
executor drops its bound methods of itself, schema/compiled, little). So
every WALK_ALL_EVERY-th full collection walks everything again (`gc.unfreeze`
first), which frees them: at most that many freezes' worth of dead requests
wait, and only one full collection in that many takes as long as every one
did before.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from typing import Any

# Objects made (less those freed) between two young collections; CPython's is
# 700. Once requests leave no cycles, a young collection frees next to nothing:
# it walks the objects of the requests in flight, all alive (20 of them: a live
# set that swings by thousands of objects, past 700 every third request or so),
# and moves them on to be walked again by the second generation. Ten times as
# many between two collections: 23 times fewer of them, each walking more
# (bench_load: 3 ms against 0.2, gen1 11 ms against 2), the collector's CPU a
# request 2.3 times less, and a full collection every ~70,000 requests instead
# of every ~3,500 (docs/PERFORMANCE.md).
YOUNG_COLLECTION_AFTER = 7000
# Second-generation collections between two full ones (CPython's default is 10).
# A full collection frees the requests' cycles that outlived the young
# generations, and its freeze keeps whatever was in flight: rarer ones freeze less.
FULL_COLLECTION_EVERY = 100
# One full collection in this many walks the frozen objects too.
WALK_ALL_EVERY = 10
OLDEST = 2  # the generation a full collection collects


@dataclass
class FrozenSurvivors:
    """gc callbacks: freeze after each full collection; unfreeze before every
    `walk_all_every`-th, so that it walks everything."""

    walk_all_every: int = WALK_ALL_EVERY
    full_collections: int = 0
    walks_of_all: int = 0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != OLDEST:
            return
        if phase == "start":
            self.full_collections += 1
            if self.full_collections % self.walk_all_every == 0:
                gc.unfreeze()
                self.walks_of_all += 1
        else:
            gc.freeze()


def freeze_survivors(walk_all_every: int = WALK_ALL_EVERY) -> FrozenSurvivors:
    """Freezes what lives now (after a full collection), and what survives each
    full collection from now on; the returned callback is in `gc.callbacks`."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_AFTER, gc.get_threshold()[1], FULL_COLLECTION_EVERY)
    policy = FrozenSurvivors(walk_all_every)
    gc.callbacks.append(policy)
    return policy
