"""Relay Cursor Connections through the real app, on both stores."""

from __future__ import annotations

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store import models
from store.port import Store
from tests.conftest import graphql
from tests.utils.builders import make_photos, make_user, photo_at
from tests.utils.paging import captions, photos_page, walk_forward

# Hypothesis examples reuse one store per test; they only read, or write photos
# under users of their own.
REUSE_FIXTURES = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


async def test_first_after_walks_every_photo_exactly_once(
    client: httpx.AsyncClient, store: Store
) -> None:
    alice = await make_user(store, "alice")
    photos = await make_photos(store, alice, 7)
    assert await walk_forward(client, "alice", 2) == [p.caption for p in photos]


async def test_last_before_walks_back_to_the_start(client: httpx.AsyncClient, store: Store) -> None:
    alice = await make_user(store, "alice")
    photos = await make_photos(store, alice, 7)
    seen: list[str] = []
    before = None
    while True:
        page = await photos_page(client, "alice", last=3, before=before)
        seen = captions(page) + seen
        assert not page["pageInfo"]["hasNextPage"]
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert seen == [p.caption for p in photos]


async def test_cursors_are_deterministic_strings(client: httpx.AsyncClient, store: Store) -> None:
    alice = await make_user(store, "alice")
    await make_photos(store, alice, 6)
    whole = await photos_page(client, "alice", first=6)
    cursors = [edge["cursor"] for edge in whole["edges"]]
    forward = await photos_page(client, "alice", first=2, after=cursors[1])
    backward = await photos_page(client, "alice", last=2, before=cursors[4])
    assert [e["cursor"] for e in forward["edges"]] == cursors[2:4]
    assert [e["cursor"] for e in backward["edges"]] == cursors[2:4]
    assert all(c.replace("-", "").replace("_", "").isalnum() for c in cursors)


@REUSE_FIXTURES
@given(data=st.data())
async def test_every_argument_combination_matches_the_relay_algorithm(
    client: httpx.AsyncClient, store: Store, data: st.DataObject
) -> None:
    """Model check: the spec's algorithm over a plain list is the oracle."""
    if await store.get_many([models.user_key("id-alice")]) == [None]:
        alice = await make_user(store, "alice")
        await make_photos(store, alice, 9)
    whole = await photos_page(client, "alice", first=50)
    cursors = [edge["cursor"] for edge in whole["edges"]]
    names = captions(whole)
    count = len(names)
    after = data.draw(st.none() | st.integers(0, count - 1), label="after")
    before = data.draw(st.none() | st.integers(0, count - 1), label="before")
    backwards = data.draw(st.booleans(), label="last")
    size = data.draw(st.integers(0, 12), label="size")
    start = 0 if after is None else after + 1
    stop = count if before is None else before
    window = names[start:stop] if start < stop else []
    args: dict[str, object] = {"last" if backwards else "first": size}
    if after is not None:
        args["after"] = cursors[after]
    if before is not None:
        args["before"] = cursors[before]
    page = await photos_page(client, "alice", **args)
    expected = window[max(len(window) - size, 0) :] if backwards else window[:size]
    assert captions(page) == expected
    info = page["pageInfo"]
    if backwards:
        assert info["hasPreviousPage"] == (len(window) > size)
    else:
        assert info["hasNextPage"] == (len(window) > size)
    edge_cursors = [edge["cursor"] for edge in page["edges"]]
    assert info["startCursor"] == (edge_cursors[0] if edge_cursors else None)
    assert info["endCursor"] == (edge_cursors[-1] if edge_cursors else None)


@REUSE_FIXTURES
@given(
    page_size=st.integers(1, 4),
    changes=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 30)), max_size=8),
)
async def test_inserts_and_deletes_while_paging_never_duplicate_or_skip(
    client: httpx.AsyncClient,
    store: Store,
    page_size: int,
    changes: list[tuple[int, int]],
) -> None:
    username = f"u{abs(hash((page_size, tuple(changes)))) % 10**12}"
    user = await make_user(store, username)
    photos = await make_photos(store, user, 12)
    deleted: set[str] = set()
    seen: list[str] = []
    after = None
    step = 0
    while True:
        page = await photos_page(client, username, first=page_size, after=after)
        seen += captions(page)
        if step < len(changes):
            inserts, victim = changes[step]
            newer = [photo_at(user, 1000 + step * 10 + i) for i in range(inserts)]
            await store.put_many([models.photo_to_entity(p) for p in newer])
            target = photos[victim % len(photos)]
            await store.delete_many([target.key])
            deleted.add(target.caption)
        step += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)), "an item was seen twice"
    survivors = [p.caption for p in photos if p.caption not in deleted]
    assert [c for c in seen if c in survivors] == survivors, "an item that existed was skipped"
    assert all(not c.startswith("photo 1") or c in survivors or c in deleted for c in seen)


async def test_default_and_maximum_page_sizes(client: httpx.AsyncClient, store: Store) -> None:
    alice = await make_user(store, "alice")
    await make_photos(store, alice, 55)
    assert len((await photos_page(client, "alice"))["edges"]) == 20
    assert len((await photos_page(client, "alice", first=50))["edges"]) == 50
    assert len((await photos_page(client, "alice", last=50))["edges"]) == 50


async def test_empty_pages_have_null_cursors(client: httpx.AsyncClient, store: Store) -> None:
    await make_user(store, "alice")
    for args in ({"first": 5}, {"last": 5}, {"first": 0}):
        page = await photos_page(client, "alice", **args)
        assert page["edges"] == []
        assert page["pageInfo"]["startCursor"] is None
        assert page["pageInfo"]["endCursor"] is None


async def test_all_photos_is_newest_first_across_users(
    client: httpx.AsyncClient, store: Store
) -> None:
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    expected = sorted(
        await make_photos(store, alice, 4) + await make_photos(store, bob, 4, start=2),
        key=lambda p: p.sort_key,
        reverse=True,
    )
    body = await graphql(
        client, "{ photos(first: 50) { edges { node { id caption owner { username } } } } }"
    )
    nodes = [edge["node"] for edge in body["data"]["photos"]["edges"]]
    assert [(n["caption"], n["owner"]["username"]) for n in nodes] == [
        (p.caption, "alice" if p.owner_id == alice.id else "bob") for p in expected
    ]
