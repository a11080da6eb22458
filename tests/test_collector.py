"""The collector in a server process (collector.py): a full collection walks
what was made since the last one, not what survived it, and one in
WALK_ALL_EVERY walks everything."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from benchmarks.load_clients import set_up
from collector import OLDEST, WALK_ALL_EVERY, FrozenSurvivors, freeze_survivors
from graphql_direct import stats
from settings import Settings
from tests.test_graphql_direct import PHOTOS, Call
from tests.utils.clients import app_client


class Node:
    def __init__(self) -> None:
        self.itself = self  # a cycle: only the collector can free it


@pytest.fixture
def policy(request: pytest.FixtureRequest) -> Iterator[FrozenSurvivors]:
    threshold = gc.get_threshold()
    installed = freeze_survivors(getattr(request, "param", WALK_ALL_EVERY))
    try:
        yield installed
    finally:
        gc.callbacks.remove(installed)
        gc.unfreeze()
        gc.set_threshold(*threshold)


def _walked_by_the_collector(thing: object) -> bool:
    return any(tracked is thing for tracked in gc.get_objects(OLDEST))


def test_what_survives_a_full_collection_is_not_walked_by_the_next(
    policy: FrozenSurvivors,
) -> None:
    cached = {"entity": [1, 2, 3]}  # tracked, as the cache's entries are
    gc.collect(1)  # promoted to the oldest generation, not yet a full collection
    assert _walked_by_the_collector(cached)

    gc.collect()

    assert not _walked_by_the_collector(cached)
    assert gc.is_tracked(cached)
    assert policy.full_collections == 1
    assert policy.walks_of_all == 0


@pytest.mark.parametrize("policy", [3], indirect=True)
def test_a_cycle_that_died_frozen_is_freed_by_every_third_full_collection(
    policy: FrozenSurvivors,
) -> None:
    node = Node()
    gc.collect()  # in flight during a full collection: frozen
    dead = weakref.ref(node)
    del node
    gc.collect()
    assert dead() is not None, "a frozen cycle waits for a walk of everything"
    assert policy.walks_of_all == 0

    gc.collect()  # the third: walks everything, frozen or not

    assert dead() is None
    assert (policy.full_collections, policy.walks_of_all) == (3, 1)
    again = Node()
    gc.collect()
    assert not _walked_by_the_collector(again), "it freezes what survived it too"


async def test_a_direct_answer_leaves_no_cycle_holding_its_request(settings: Settings) -> None:
    """What a request read (its context, loaders, futures and entities) goes
    when the request does, by reference counting, not at the next collection
    of the oldest generation: graphql-core's executor is a cycle of its own
    (bound methods of itself), which it breaks once it has answered (schema/compiled)."""
    async with app_client(settings) as http:
        for _ in range(2):  # the first goes the normal way (test_graphql_direct_routing.py)
            await Call(PHOTOS, {"n": 1}).send(http)
        before = stats.answered
        gc.collect()
        gc.disable()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            response = await Call(PHOTOS, {"n": 1}).send(http)
            gc.collect()
            in_cycles = Counter(type(thing).__name__ for thing in gc.garbage)
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            gc.enable()
    assert response.status_code == 200
    assert stats.answered == before + 1
    assert in_cycles["RequestContext"] == 0
    assert in_cycles["CompiledExecution"] == 0


async def _left_for_the_collector(send: Callable[[], Awaitable[object]], times: int) -> int:
    """Objects that `times` calls of `send` leave in reference cycles: what a
    collection frees after them, with the collector off while they run."""
    for _ in range(2):  # the first ones fill caches (parsed documents, plans: like, unlike)
        await send()
    gc.collect()
    gc.disable()
    try:
        for _ in range(times):
            await send()
        await asyncio.sleep(0.2)  # the writes' background work, on the embedded queue
        return gc.collect()
    finally:
        gc.enable()


@pytest.mark.slow  # sets up two users with a photo each (about 2.5 s)
async def test_writes_and_uploads_leave_no_cycles_behind(settings: Settings) -> None:
    """Mutations take strawberry's view and uploads its multipart path, where
    graphql-core's executor (bound methods of itself) and the blob writes'
    futures (`all_done`'s callback) each made one cycle holding the request's
    context, loaders, entities and rendered images: 50-180 objects a request,
    freed only by the collector (its pauses). Now each goes when the request
    does; what is left is the test client's own (httpx's response and its
    stream), about as much as a plain GET leaves."""
    times = 5
    async with app_client(settings) as http:
        me, _ = await set_up(http, settings.var_dir, 2, photos_each=1)
        client_only = await _left_for_the_collector(lambda: http.get("/healthz"), times)
        for kind in ("caption", "like", "comment", "follow", "photo"):
            left = await _left_for_the_collector(lambda: me.one(kind), times)  # noqa: B023
            # A POST leaves the client a few more objects than a GET (its body):
            # 31 a request against 27; before, 80-210.
            assert left <= client_only + 10 * times, (kind, left, client_only)


async def test_concurrent_requests_without_cycles_set_off_few_young_collections(
    settings: Settings, policy: FrozenSurvivors
) -> None:
    """Twenty requests in flight: what a young collection would walk is theirs,
    alive, and there is next to no garbage for it to free (the tests above). At
    CPython's threshold (700) 200 small reads set off 9 or 10 of them; at the
    server's, none or one (collector.YOUNG_COLLECTION_AFTER)."""
    young: list[int] = []

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info["generation"] == 0:
            young.append(1)

    async with app_client(settings) as http:
        for _ in range(2):
            await Call(PHOTOS, {"n": 1}).send(http)
        gc.collect()
        gc.callbacks.append(count)
        try:
            for _ in range(10):
                await asyncio.gather(*(Call(PHOTOS, {"n": 1}).send(http) for _ in range(20)))
        finally:
            gc.callbacks.remove(count)
    assert len(young) <= 2, len(young)  # 9-10 at 700
