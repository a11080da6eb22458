"""The transactional outbox on both stores: a mutation's follow-up tasks commit with
its effect, a queue that refuses them fails no committed write, and the sweeper
delivers what the relay could not, each follow-up once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from settings import Settings
from store import models
from store.port import Entity, Query, Store
from taskqueue.embedded.queue import list_tasks
from taskqueue.port import EnqueueResult, TaskQueue, TaskRequest
from tasks.outbox import OUTBOX, relay, relay_outbox
from tasks.runtime import TaskRuntime
from tests.test_social import ADD_COMMENT, FOLLOW, LIKE, mutate, pid, uid
from tests.test_social_background import FEED, NOTIFICATIONS
from tests.utils.accounts import bearer, call
from tests.utils.builders import make_photos, make_user
from tests.utils.clients import app_over_queue
from tests.utils.contexts import app_job_context
from tests.utils.draining import app_of, drain, settle_relays


class RefusingQueue(TaskQueue):
    """The real queue behind a switch: while `refusing`, every add raises, as a
    queue that is down or locked would."""

    def __init__(self, inner: TaskQueue) -> None:
        self.inner = inner
        self.refusing = True
        self.refused = 0

    async def add(self, request: TaskRequest) -> EnqueueResult:
        if self.refusing:
            self.refused += 1
            raise ConnectionError("the queue is unreachable")
        return await self.inner.add(request)


class Harness:
    def __init__(self, http: httpx.AsyncClient, runtime: TaskRuntime, queue: RefusingQueue):
        self.http = http
        self.runtime = runtime
        self.queue = queue


@pytest.fixture
async def harness(store: Store, settings: Settings) -> AsyncIterator[Harness]:
    async with app_over_queue(settings, store, RefusingQueue) as (http, queue):
        yield Harness(http, app_of(http).state.tasks, queue)


async def outbox_records(store: Store) -> list[Entity]:
    results = await store.page(Query(OUTBOX, order_by="sort_key", descending=False), limit=500)
    return [result.entity for result in results]


async def queued_names(runtime: TaskRuntime) -> list[str]:
    assert runtime.db is not None
    rows = await runtime.db.read(lambda conn: list_tasks(conn, None, 10_000))
    return sorted(row.name for row in rows)


async def notices(http: httpx.AsyncClient, settings: Settings, user: models.User) -> dict[str, int]:
    """The user's notifications: each kind's number of actors."""
    body = await call(http, NOTIFICATIONS, headers=bearer(settings, user.id))
    edges = body["data"]["viewer"]["notifications"]["edges"]
    return {edge["node"]["kind"]: edge["node"]["actorCount"] for edge in edges}


async def alice_bob_and_a_photo(store: Store) -> tuple[models.User, models.User, models.Photo]:
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    [photo] = await make_photos(store, alice, 1)
    return alice, bob, photo


async def run_sweeper(harness: Harness) -> None:
    """The relay_outbox cron job, a minute after the writes (past SWEEP_AGE)."""
    later = datetime.now(UTC) + timedelta(minutes=1)
    await relay_outbox(app_job_context(harness.http, "relay_outbox", clock=lambda: later))


async def test_a_refusing_queue_fails_no_committed_write_and_the_sweeper_delivers(
    harness: Harness, settings: Settings, store: Store
) -> None:
    alice, bob, photo = await alice_bob_and_a_photo(store)
    as_bob = bearer(settings, bob.id)

    followed = await mutate(harness.http, FOLLOW, as_bob, userId=uid(alice))
    liked = await mutate(harness.http, LIKE, as_bob, photoId=pid(photo))
    commented = await mutate(harness.http, ADD_COMMENT, as_bob, photoId=pid(photo), text="hi")
    assert [followed["errors"], liked["errors"], commented["errors"]] == [[], [], []]
    assert liked["photo"] == {"likeCount": 0, "viewerHasLiked": True}  # counted once folded
    await settle_relays(harness.http)  # the relays run after the answers
    # Each action's fan-in to alice, and the fold of the counts it changed
    # (followers and following; likes; comments); the feed backfill comes from the fan-in.
    assert harness.queue.refused == 6
    records = await outbox_records(store)
    assert sorted(str(r.properties["handler"]) for r in records) == 3 * ["fan_in"] + 3 * [
        "fold_all_counters"
    ]
    # Each commit's records under a root of their own, not in the viewer's group
    # (the relay's delete there would make the viewer's next mutation retry).
    assert len({r.key.parent for r in records}) == 3
    assert {r.key.root.kind for r in records} == {OUTBOX}
    assert await queued_names(harness.runtime) == []

    harness.queue.refusing = False
    await run_sweeper(harness)
    await drain(harness.http)
    assert await outbox_records(store) == []
    # Every record became its named task (fan-ins to one owner in one bucket are one).
    assert {str(r.properties["name"]) for r in records} <= set(await queued_names(harness.runtime))
    likes = await call(
        harness.http,
        "query($id: ID!) { node(id: $id) { ... on Photo { likeCount } } }",
        {"id": pid(photo)},
    )
    assert likes["data"]["node"] == {"likeCount": 1}
    assert await notices(harness.http, settings, alice) == {"FOLLOW": 1, "LIKE": 1, "COMMENT": 1}
    feed = await call(harness.http, FEED, headers=as_bob)
    [item] = feed["data"]["viewer"]["feed"]["edges"]
    assert item["node"]["caption"] == photo.caption


async def test_a_relay_repeated_after_its_enqueue_adds_nothing(
    harness: Harness, settings: Settings, store: Store
) -> None:
    """A crash between the enqueue and the delete means the sweeper relays again:
    the named task collapses, and the record goes."""
    alice, bob, photo = await alice_bob_and_a_photo(store)
    await mutate(harness.http, LIKE, bearer(settings, bob.id), photoId=pid(photo))
    await settle_relays(harness.http)  # refused: the records stay
    records = await outbox_records(store)  # the fan-in and the like count's fold
    harness.queue.refusing = False

    await relay(store, harness.runtime.tasks, records)
    await drain(harness.http)
    done = await queued_names(harness.runtime)
    await store.put_many(records)  # as if the delete had never happened
    await run_sweeper(harness)
    await drain(harness.http)

    assert await queued_names(harness.runtime) == done
    assert await outbox_records(store) == []
    assert await notices(harness.http, settings, alice) == {"LIKE": 1}


async def test_replays_and_refusals_write_no_outbox_record(
    harness: Harness, settings: Settings, store: Store
) -> None:
    alice, bob, photo = await alice_bob_and_a_photo(store)
    as_bob = bearer(settings, bob.id)
    for _ in range(3):
        await mutate(harness.http, LIKE, as_bob, photoId=pid(photo), idempotencyKey="like-1")
    await mutate(harness.http, LIKE, as_bob, photoId=pid(photo))  # liked already: no effect
    # Through the app's own store, as its writes go, so that its cache sees the delete.
    await app_of(harness.http).state.store.delete_many([photo.key])
    gone = await mutate(harness.http, LIKE, bearer(settings, alice.id), photoId=pid(photo))
    assert [e["code"] for e in gone["errors"]] == ["NOT_FOUND"]
    await settle_relays(harness.http)
    records = await outbox_records(store)
    assert sorted(str(r.properties["handler"]) for r in records) == [
        "fan_in",
        "fold_all_counters",
    ]


async def test_concurrent_writes_leave_one_record_per_committed_effect(
    harness: Harness, settings: Settings, store: Store
) -> None:
    """Attempts that lose a race are retried; only the attempt that commits leaves records."""
    alice = await make_user(store, "alice")
    [photo] = await make_photos(store, alice, 1)
    fans = [await make_user(store, f"fan{n}") for n in range(12)]
    results = await asyncio.gather(
        *(mutate(harness.http, LIKE, bearer(settings, f.id), photoId=pid(photo)) for f in fans)
    )
    assert all(r["errors"] == [] for r in results)
    await settle_relays(harness.http)
    records = await outbox_records(store)  # two a like: its fan-in and its count's fold
    roots = [r.key.parent for r in records]
    assert len(roots) == 2 * len(fans)
    assert len(set(roots)) == len(fans)  # one root a committed like

    harness.queue.refusing = False
    await run_sweeper(harness)
    await drain(harness.http)
    assert await notices(harness.http, settings, alice) == {"LIKE": len(fans)}


async def test_a_working_queue_leaves_no_record_behind(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    await mutate(client, FOLLOW, bearer(settings, bob.id), userId=uid(alice))
    await settle_relays(client)  # after the answer
    assert await outbox_records(store) == []
    await drain(client)
    assert await notices(client, settings, alice) == {"FOLLOW": 1}
