"""Demo data: enough to page through, and idempotent."""

from __future__ import annotations

import httpx

from demo import DEMO_USERS, seed_demo_data
from store.port import Store
from tests.utils.paging import walk_forward


async def test_seeding_twice_writes_once(client: httpx.AsyncClient, store: Store) -> None:
    written = await seed_demo_data(store)
    assert written > 0
    assert await seed_demo_data(store) == 0
    assert len(DEMO_USERS) >= 3
    busiest = max(DEMO_USERS, key=lambda user: user[3])
    assert busiest[3] > 50
    walked = await walk_forward(client, busiest[1], 7)
    assert len(walked) == len(set(walked)) == busiest[3]
