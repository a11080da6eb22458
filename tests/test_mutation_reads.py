"""A mutation reads before its transaction in one get without a DataLoader, and its
answer reads what the transaction wrote from the request (resolvers/mutations.py
`prime_written`), not from the store: counted in store round trips per mutation,
without a cache, on both stores."""

from __future__ import annotations

import dataclasses

from settings import Settings
from settings.cache import CacheSettings
from store.datastore import DatastoreStore
from store.port import Store
from tests.test_social import ADD_COMMENT, LIKE, UNLIKE, mutate, pid
from tests.utils.accounts import bearer
from tests.utils.builders import owner_and_fan
from tests.utils.clients import app_client
from tests.utils.draining import StoppedClock, settle_relays


async def test_a_like_and_a_comment_answer_from_what_they_wrote(
    store: Store, settings: Settings
) -> None:
    _, photos, fan = await owner_and_fan(store, 3)
    as_fan = bearer(settings, fan.id)
    # A transaction's round trips: its get and its commit (Datastore begins it in one more).
    transaction = 3 if isinstance(store, DatastoreStore) else 2
    uncached = dataclasses.replace(settings, cache=CacheSettings(backend="off"))
    # One bucket: after the first like, the follow-ups' tasks wait in the queue and
    # the next actions relay nothing (tasks/queued_names.py), so only they count.
    async with app_client(uncached, store, clock=StoppedClock()) as http:
        await mutate(http, LIKE, as_fan, photoId=pid(photos[0]))
        await mutate(http, ADD_COMMENT, as_fan, photoId=pid(photos[0]), text="first")
        await settle_relays(http)

        before = store.round_trips
        liked = await mutate(http, LIKE, as_fan, photoId=pid(photos[1]))
        # The photo and its count in one get, then the transaction; `viewerHasLiked`
        # is the Like the commit wrote (the count and the Like were one more get).
        assert store.round_trips - before == 1 + transaction
        assert liked["photo"] == {"likeCount": 0, "viewerHasLiked": True}

        before = store.round_trips
        unliked = await mutate(http, UNLIKE, as_fan, photoId=pid(photos[0]))
        assert store.round_trips - before == 1 + transaction
        assert unliked["photo"] == {"likeCount": 0, "viewerHasLiked": False}  # folded later

        before = store.round_trips
        commented = await mutate(http, ADD_COMMENT, as_fan, photoId=pid(photos[2]), text="hi")
        # The photo, the transaction, and the author for the answer; the comment
        # itself is the one the commit wrote (it was read again).
        assert store.round_trips - before == 2 + transaction
        assert commented["comment"]["text"] == "hi"
        assert commented["comment"]["author"] == {"username": "fan"}
