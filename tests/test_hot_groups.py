"""No hot entity groups: a like, comment or follow writes only into its actor's
group; the owner's group takes one batched write; contention a client cannot
wait out is the retryable UNAVAILABLE; and the hot-photo and hot-user loads of
benchmarks/bench_hot.py hold, briefly, on the Datastore emulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from benchmarks import bench_hot
from settings import Settings
from store import activity_models, models
from store.datastore import DatastoreStore
from store.errors import TransactionConflict
from store.keys import Key
from store.port import Entity, Store, Transaction
from tests.test_social import ADD_COMMENT, FOLLOW, LIKE, mutate, pid, uid
from tests.test_social_background import NOTIFICATIONS
from tests.utils.accounts import bearer, call
from tests.utils.builders import make_photos, make_user
from tests.utils.clients import app_client
from tests.utils.datastore_emulator import PROJECT_ID, DatastoreEmulator
from tests.utils.delegating_store import DelegatingStore
from tests.utils.draining import drain, settle_relays


def _group(key: Key) -> str:
    """A user's group by the user's id; any other root by its kind too (a
    PushStatus root is named after its user, and is not the user's group)."""
    kind, name = key.path[0]
    return str(name) if kind == models.USER else f"{kind}/{name}"


@dataclass
class Recorded:
    """What one committed transaction touched: the roots of its keys, how many
    reads it made, and the kinds it wrote."""

    groups: set[str] = field(default_factory=set)
    reads: int = 0
    kinds_written: set[str] = field(default_factory=set)
    written_groups: set[str] = field(default_factory=set)
    deleted: bool = False


class GroupRecorder(DelegatingStore):
    """The real store behind the port, noting the root of every key each
    transaction reads or writes (one set per transaction that commits)."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.transactions: list[set[str]] = []
        self.recorded: list[Recorded] = []

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        record = Recorded()
        async with self.inner.transaction() as tx:
            yield _RecordingTransaction(tx, record)
        self.transactions.append(record.groups)
        self.recorded.append(record)


class _RecordingTransaction:
    def __init__(self, inner: Transaction, record: Recorded) -> None:
        self.inner = inner
        self.record = record

    async def get_many(self, keys: Sequence[Key]) -> list[Entity | None]:
        self.record.groups.update(_group(k) for k in keys)
        self.record.reads += 1
        return await self.inner.get_many(keys)

    def put_many(self, entities: Sequence[Entity]) -> None:
        self.record.groups.update(_group(e.key) for e in entities)
        self.record.written_groups.update(_group(e.key) for e in entities)
        self.record.kinds_written.update(e.key.kind for e in entities)
        self.inner.put_many(entities)

    def delete_many(self, keys: Sequence[Key]) -> None:
        self.record.groups.update(_group(k) for k in keys)
        self.record.written_groups.update(_group(k) for k in keys)
        self.record.deleted = self.record.deleted or bool(keys)
        self.inner.delete_many(keys)


class WriteRecorder(GroupRecorder):
    """Also notes the root of every key written outside a transaction: `writes`
    holds one set of roots per committed transaction or plain put/delete."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.writes: list[set[str]] = []

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with super().transaction() as tx:
            yield tx
        written = self.recorded[-1]
        if written.kinds_written or written.deleted:
            self.writes.append(written.written_groups)

    async def put_many(self, entities: Sequence[Entity]) -> None:
        await self.inner.put_many(entities)
        self.writes.append({_group(e.key) for e in entities})

    async def delete_many(self, keys: Sequence[Key]) -> None:
        await self.inner.delete_many(keys)
        self.writes.append({_group(k) for k in keys})


class AlwaysConflicting(GroupRecorder):
    """Every transaction loses its race, as under contention that never ends."""

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self.inner.transaction() as tx:
            yield tx
            raise TransactionConflict("too much contention on these datastore entities")


async def _owner_photo_and_fans(
    store: Store, count: int
) -> tuple[models.User, models.Photo, list[models.User]]:
    owner = await make_user(store, "owner")
    [photo] = await make_photos(store, owner, 1)
    return owner, photo, [await make_user(store, f"fan{n}") for n in range(count)]


async def _all_at_once(
    http: httpx.AsyncClient,
    settings: Settings,
    fans: Sequence[models.User],
    owner: models.User,
    photo: models.Photo,
    *,
    follow: bool,
    drain_queue: bool = True,
) -> None:
    """Every fan likes and comments on the photo (and follows its owner) at once;
    then the queue drains."""
    actions: list[tuple[str, dict[str, str]]] = [
        (LIKE, {"photoId": pid(photo)}),
        (ADD_COMMENT, {"photoId": pid(photo), "text": "nice"}),
    ]
    if follow:
        actions.append((FOLLOW, {"userId": uid(owner)}))
    await asyncio.gather(
        *(
            mutate(http, query, bearer(settings, fan.id), **args)
            for fan in fans
            for query, args in actions
        )
    )
    if drain_queue:
        await drain(http)


async def test_likes_comments_and_follows_commit_in_the_actors_group_only(
    store: Store, settings: Settings
) -> None:
    owner, photo, fans = await _owner_photo_and_fans(store, 8)
    recorder = GroupRecorder(store)
    async with app_client(settings, recorder) as http:
        await _all_at_once(http, settings, fans, owner, photo, follow=True)
        body = await call(http, NOTIFICATIONS, headers=bearer(settings, owner.id))
    fan_ids = {fan.id for fan in fans}
    both = [groups for groups in recorder.transactions if owner.id in groups and groups & fan_ids]
    assert both == []  # no action drew the owner's group into its transaction
    # 24 actions reached the owner's group in a batch per time bucket they
    # spanned (a few), never in one write per action.
    into_owner = [groups for groups in recorder.transactions if owner.id in groups]
    assert 1 <= len(into_owner) <= len(fans)
    kinds = {e["node"]["kind"]: e["node"]["actorCount"] for e in _edges(body)}
    assert kinds == {"LIKE": 8, "COMMENT": 8, "FOLLOW": 8}


async def test_a_fan_in_reads_the_owners_group_twice_per_attempt_and_writes_it_once(
    store: Store, settings: Settings
) -> None:
    # Each read of a transaction on the owner's group widens the window in which
    # the owner's own writes make it retry: the mark and the notification threads
    # come in one batched get, the threads' current items in a second. Its commit
    # is the run's only write there: the relay of the pushes it asked for deletes
    # their outbox records under a root of their own.
    owner, photo, fans = await _owner_photo_and_fans(store, 4)
    recorder = WriteRecorder(store)
    async with app_client(settings, recorder) as http:
        await _all_at_once(http, settings, fans, owner, photo, follow=False)
    fan_ins = [r for r in recorder.recorded if activity_models.FAN_IN_MARK in r.kinds_written]
    assert fan_ins
    for fan_in in fan_ins:
        # Besides the owner's group, only the root its outbox records were written in.
        elsewhere = fan_in.groups - {owner.id}
        assert elsewhere <= fan_in.written_groups
        assert len(elsewhere) <= 1
    assert [r.reads for r in fan_ins] == [2] * len(fan_ins)
    assert len([groups for groups in recorder.writes if owner.id in groups]) == len(fan_ins)


async def test_the_follow_up_work_of_an_action_never_writes_into_its_actors_group(
    store: Store, settings: Settings
) -> None:
    # A write into the actor's group makes the actor's next action, which reads
    # that group, retry (and one that keeps losing answers UNAVAILABLE): so the
    # folds of the actors' counter deltas and the owner's fan-in of their
    # activities must leave the actors' groups alone.
    owner, photo, fans = await _owner_photo_and_fans(store, 4)
    recorder = WriteRecorder(store)
    async with app_client(settings, recorder) as http:
        await _all_at_once(http, settings, fans, owner, photo, follow=False, drain_queue=False)
        # The relays delete each action's outbox records (in the actor's group) after
        # the answer: part of the action's own write path, not of its follow-ups.
        await settle_relays(http)
        acted = len(recorder.writes)
        await drain(http)
    fan_ids = {fan.id for fan in fans}
    assert [groups & fan_ids for groups in recorder.writes[:acted] if groups & fan_ids]
    assert [groups for groups in recorder.writes[acted:] if groups & fan_ids] == []


def _edges(body: dict[str, object]) -> list[dict[str, dict[str, object]]]:
    edges = body["data"]["viewer"]["notifications"]["edges"]  # type: ignore[index]
    return edges  # type: ignore[no-any-return]


async def test_contention_that_outlasts_the_retries_is_unavailable_with_a_hint(
    store: Store, settings: Settings
) -> None:
    owner, fan = await make_user(store, "owner"), await make_user(store, "fan")
    [photo] = await make_photos(store, owner, 1)
    async with app_client(settings, AlwaysConflicting(store)) as http:
        response = await http.post(
            "/graphql",
            json={"query": LIKE, "variables": {"i": {"photoId": pid(photo)}}},
            headers=bearer(settings, fan.id),
        )
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAVAILABLE"
    assert error["extensions"]["retryAfterSeconds"] > 0
    assert "contention" not in error["message"]


@pytest.fixture
def emulator_store(datastore_emulator: DatastoreEmulator) -> DatastoreStore:
    datastore_emulator.reset()
    return DatastoreStore(PROJECT_ID, client=datastore_emulator.client())


@pytest.mark.parametrize("scenario", ["likes", "follows"])
async def test_fifty_actions_a_second_on_one_photo_or_user_hold(
    emulator_store: DatastoreStore, tmp_path: Path, scenario: str
) -> None:
    """The issue's hot-photo and hot-user runs, 3 s instead of 30: no client
    error, exact counts, complete notifications (and followers list)."""
    settings = Settings(
        var_dir=tmp_path, sqlite_path=tmp_path / "timeline.db", secret_key=b"test-secret-" * 4
    )
    try:
        outcome = await bench_hot.run_scenario(
            scenario, emulator_store, settings, rate=50, seconds=3, users=50
        )
    finally:
        await emulator_store.close()
    assert outcome.errors == []
    assert outcome.read_errors == []
    assert outcome.count_shown == outcome.count_expected
    assert outcome.actors_notified == outcome.actors_expected == 50
    assert outcome.listed_ok
