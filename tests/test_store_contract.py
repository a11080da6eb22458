"""The store contract: one suite, run unchanged against every adapter."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from store import models
from store.errors import TransactionConflict, TransactionTooLarge
from store.keys import Key
from store.port import MAX_BATCH, Entity, Query, Store, Transaction
from store.sqlite import SQLiteStore
from store.transactions import run_in_transaction
from tests.utils.builders import make_photos, make_user


def _photos_of(user_id: str) -> Query:
    return Query(kind=models.PHOTO, order_by="sort_key", ancestor=models.user_key(user_id))


async def test_put_then_get_round_trips_every_value_type(store: Store) -> None:
    when = datetime(2026, 11, 27, 9, 30, 15, 123456, tzinfo=UTC)
    entity = Entity(
        Key.of("User", "u1", "Thing", "t/1 with spaces"),
        {
            "text": "héllo",
            "number": 42,
            "ratio": 0.5,
            "flag": True,
            "nothing": None,
            "when": when,
            "blob": b"\x00\x01",
            "ref": Key.of("User", "u2"),
            "tags": ["a", "b"],
            "long": "x" * 5000,
        },
        unindexed=frozenset({"long", "blob"}),
    )
    await store.put_many([entity])
    [found] = await store.get_many([entity.key])
    assert found is not None
    assert found.key == entity.key
    assert found.properties == entity.properties


async def test_get_many_keeps_order_and_reports_missing(store: Store) -> None:
    keys = [Key.of("User", name) for name in ("a", "b", "c")]
    await store.put_many([Entity(keys[2], {"n": 3}), Entity(keys[0], {"n": 1})])
    found = await store.get_many([keys[2], keys[1], keys[0]])
    assert [e.properties["n"] if e else None for e in found] == [3, None, 1]


async def test_delete_removes_only_what_it_names(store: Store) -> None:
    keys = [Key.of("User", "a"), Key.of("User", "b")]
    await store.put_many([Entity(k, {}) for k in keys])
    await store.delete_many([keys[0]])
    assert [e is not None for e in await store.get_many(keys)] == [False, True]


async def test_batches_over_the_datastore_limit_are_refused(store: Store) -> None:
    entities = [Entity(Key.of("User", f"u{i}"), {}) for i in range(MAX_BATCH + 1)]
    with pytest.raises(TransactionTooLarge):
        await store.put_many(entities)
    await store.put_many(entities[:MAX_BATCH])


async def test_ancestor_query_sees_only_that_group_newest_first(store: Store) -> None:
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    alice_photos = await make_photos(store, alice, 5)
    await make_photos(store, bob, 3, start=100)
    results = await store.page(_photos_of(alice.id), limit=10)
    assert [r.entity.key for r in results] == [p.key for p in alice_photos]


async def test_global_query_spans_groups(store: Store) -> None:
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    newest_first = sorted(
        await make_photos(store, alice, 3) + await make_photos(store, bob, 3, start=1),
        key=lambda p: p.sort_key,
        reverse=True,
    )
    results = await store.page(Query(kind=models.PHOTO, order_by="sort_key"), limit=10)
    assert [r.entity.key for r in results] == [p.key for p in newest_first]


async def test_equality_filters(store: Store) -> None:
    await store.put_many(
        [
            Entity(Key.of("Tag", f"t{i}"), {"color": "red" if i % 2 else "blue", "sk": f"{i:03d}"})
            for i in range(6)
        ]
    )
    query = Query(kind="Tag", order_by="sk", descending=False, equals=(("color", "red"),))
    results = await store.page(query, limit=10)
    assert [r.entity.key.name for r in results] == ["t1", "t3", "t5"]


@pytest.mark.parametrize("from_end", [False, True])
async def test_page_bounds_in_both_directions(store: Store, from_end: bool) -> None:
    alice = await make_user(store, "alice")
    photos = await make_photos(store, alice, 10)
    query = _photos_of(alice.id)
    every = await store.page(query, limit=10)
    after, before = every[1].position, every[8].position
    results = await store.page(query, limit=3, after=after, before=before, from_end=from_end)
    expected = photos[5:8] if from_end else photos[2:5]
    assert [r.entity.key for r in results] == [p.key for p in expected]
    # Positions read from either end are the same positions in the same query.
    by_key = {r.entity.key: r.position for r in every}
    assert all(r.position == by_key[r.entity.key] for r in results)


async def test_positions_are_deterministic_however_the_page_was_reached(store: Store) -> None:
    alice = await make_user(store, "alice")
    await make_photos(store, alice, 8)
    query = _photos_of(alice.id)
    whole = await store.page(query, limit=8)
    forward = await store.page(query, limit=3, after=whole[2].position)
    bounded = await store.page(query, limit=3, after=whole[2].position, before=whole[7].position)
    backward = await store.page(query, limit=3, before=whole[6].position, from_end=True)
    assert [r.position for r in forward] == [r.position for r in whole[3:6]]
    assert [r.position for r in bounded] == [r.position for r in whole[3:6]]
    assert [r.position for r in backward] == [r.position for r in whole[3:6]]


async def test_a_position_survives_deleting_its_entity(store: Store) -> None:
    alice = await make_user(store, "alice")
    photos = await make_photos(store, alice, 5)
    query = _photos_of(alice.id)
    first_two = await store.page(query, limit=2)
    await store.delete_many([photos[1].key])
    rest = await store.page(query, limit=5, after=first_two[1].position)
    assert [r.entity.key for r in rest] == [p.key for p in photos[2:]]


async def test_transaction_commits_all_writes_together(store: Store) -> None:
    key = Key.of("User", "alice")
    await store.put_many([Entity(key, {"n": 1})])
    async with store.transaction() as tx:
        [current] = await tx.get_many([key])
        assert current is not None
        tx.put_many([Entity(key, {"n": 2}), Entity(key.child("Photo", "p"), {"sort_key": "1"})])
    found = await store.get_many([key, key.child("Photo", "p")])
    assert [e.properties for e in found if e] == [{"n": 2}, {"sort_key": "1"}]


async def test_transaction_that_raises_writes_nothing(store: Store) -> None:
    key = Key.of("User", "alice")

    async def write_then_fail() -> None:
        async with store.transaction() as tx:
            tx.put_many([Entity(key, {"n": 1})])
            raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError):
        await write_then_fail()
    assert await store.get_many([key]) == [None]


async def test_transaction_delete(store: Store) -> None:
    key = Key.of("User", "alice")
    await store.put_many([Entity(key, {})])
    async with store.transaction() as tx:
        tx.delete_many([key])
    assert await store.get_many([key]) == [None]


async def test_round_trips_are_counted(store: Store) -> None:
    before = store.round_trips
    await store.get_many([Key.of("User", "a"), Key.of("User", "b")])
    await store.page(_photos_of("a"), limit=5)
    assert store.round_trips - before == 2


async def test_racing_transactions_never_lose_an_update(store: Store) -> None:
    key = Key.of("Counter", "c")
    await store.put_many([Entity(key, {"n": 0})])

    async def increment(tx: Transaction) -> None:
        [current] = await tx.get_many([key])
        assert current is not None
        count = current.properties["n"]
        assert isinstance(count, int)
        await asyncio.sleep(0)  # let the other writers read the same value
        tx.put_many([Entity(key, {"n": count + 1})])

    await asyncio.gather(*(run_in_transaction(store, increment, attempts=20) for _ in range(5)))
    [final] = await store.get_many([key])
    assert final is not None
    assert final.properties["n"] == 5


async def _committed_when_overtaken(store: Store, first: Key, second: Key) -> list[str]:
    """Transaction "a" reads `first`; meanwhile "b" reads and writes `second` and
    commits; then "a" writes `first`. Which of the two committed."""
    await store.put_many([Entity(key, {"n": 0}) for key in {first, second}])
    committed = []
    try:
        async with store.transaction() as a:
            await a.get_many([first])
            async with store.transaction() as b:
                await b.get_many([second])
                b.put_many([Entity(second, {"n": 2})])
            committed.append("b")
            a.put_many([Entity(first, {"n": 1})])
    except TransactionConflict:
        return committed
    return [*committed, "a"]


async def test_a_transaction_overtaken_on_the_entity_it_read_conflicts(store: Store) -> None:
    key = Key.of("User", "owner", "Thing", "1")
    assert await _committed_when_overtaken(store, key, key) == ["b"]


async def test_transactions_on_different_groups_both_commit(store: Store) -> None:
    committed = await _committed_when_overtaken(store, Key.of("User", "a"), Key.of("User", "b"))
    assert committed == ["b", "a"]


async def test_transactions_on_different_entities_of_one_group(store: Store) -> None:
    # The embedded store validates per entity, as Firestore in Datastore mode does
    # in its optimistic and pessimistic modes; the Datastore emulator still
    # validates per entity group, as legacy Datastore did. Code may rely on
    # neither: it must work when such transactions both commit, and when one is
    # retried.
    group = Key.of("User", "owner")
    committed = await _committed_when_overtaken(
        store, group.child("Thing", "1"), group.child("Thing", "2")
    )
    assert committed == (["b", "a"] if isinstance(store, SQLiteStore) else ["b"])


async def test_a_transaction_that_read_a_missing_key_conflicts_with_its_creation(
    store: Store,
) -> None:
    key = Key.of("Username", "alice")

    async def claim_overtaken() -> None:
        async with store.transaction() as tx:
            [absent] = await tx.get_many([key])
            assert absent is None
            await store.put_many([Entity(key, {"user": "u1"})])  # another sign-up wins
            tx.put_many([Entity(key, {"user": "u2"})])

    with pytest.raises(TransactionConflict):
        await claim_overtaken()
    [claim] = await store.get_many([key])
    assert claim is not None
    assert claim.properties == {"user": "u1"}
