"""A fan-in sets the followee's half of each follow edge to the follower's half
as it reads it: a run whose commit loses to another run (the next bucket's,
which applied a later unfollow) must read the halves again when it retries, or
it writes back a follower who has gone, and no later activity corrects it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx

from store import activity_models, social_models
from store.port import Store, Transaction
from taskqueue.context import TaskInfo
from tasks.fan_in import fan_in
from tests.test_hot_groups import GroupRecorder
from tests.utils.builders import make_user
from tests.utils.contexts import app_task_context


class MeanwhileOnce(GroupRecorder):
    """Runs `meanwhile` once, inside the first fan-in transaction, before its commit."""

    def __init__(self, inner: Store, meanwhile: Callable[[], Awaitable[None]]) -> None:
        super().__init__(inner)
        self._meanwhile: Callable[[], Awaitable[None]] | None = meanwhile

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with super().transaction() as tx:
            yield tx
            meanwhile, self._meanwhile = self._meanwhile, None
            if meanwhile is not None:
                await meanwhile()


async def test_a_fan_in_retried_after_a_later_unfollow_leaves_no_follower(
    client: httpx.AsyncClient, store: Store
) -> None:
    owner, fan = await make_user(store, "owner"), await make_user(store, "fan")
    edge = social_models.following_key(fan.id, owner.id)
    now = datetime.now(UTC)
    await store.put_many(  # the follow's commit: the fan's half and its activity
        [
            social_models.edge_entity(edge, owner.id, now),
            activity_models.activity(fan.id, owner.id, activity_models.FOLLOW, "", now),
        ]
    )
    payload = {"owner": owner.id}

    async def unfollow_and_the_next_run() -> None:
        await store.delete_many([edge])  # the unfollow's commit
        await store.put_many(
            [activity_models.activity(fan.id, owner.id, activity_models.UNFOLLOW, "", now)]
        )
        await fan_in(payload, app_task_context(client, TaskInfo("fan_in", "default", "next")))

    racing = MeanwhileOnce(store, unfollow_and_the_next_run)
    await fan_in(
        payload, app_task_context(client, TaskInfo("fan_in", "default", "first"), store=racing)
    )

    assert await store.get_many([edge]) == [None]
    follower = social_models.follower_key(owner.id, fan.id)
    assert await store.get_many([follower]) == [None]
    assert await store.page(activity_models.pending_for(owner.id), limit=5) == []
