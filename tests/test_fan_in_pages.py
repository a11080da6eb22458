"""A fan-in applies a page of activities in one commit, which holds whatever the
page holds: likes of as many photos as a page takes each change a notification
(its new item, its thread, the item it replaces) and ask for a push, all inside
Datastore's 500 mutations. Both adapters refuse a larger commit alike
(TransactionTooLarge), so the embedded one shows it, without the emulator's
cost of running the pushes."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from store import activity_models
from store.models import photo_key
from store.notification_models import unread_query
from store.port import Store
from tests.utils.builders import make_user
from tests.utils.draining import app_of, drain

# More photos than a commit of 500 mutations holds at three mutations each.
PHOTOS = 170


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
async def test_a_fan_in_of_likes_on_many_photos_commits_within_the_limit(
    client: httpx.AsyncClient, store: Store
) -> None:
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    now = datetime.now(UTC)
    likes = [
        activity_models.activity(
            bob.id, alice.id, activity_models.LIKE, photo_key(alice.id, f"p{n}").encode(), now
        )
        for n in range(PHOTOS)
    ]
    await store.put_many(likes)
    await app_of(client).state.tasks.tasks.enqueue("fan_in", {"owner": alice.id})
    await drain(client)
    assert len(await store.page(unread_query(alice.id), limit=PHOTOS + 1)) == PHOTOS
    assert await store.page(activity_models.pending_for(alice.id), limit=1) == []
