"""An infinite scroll over the home feed never stalls, however many items are hidden.

Items whose photo is gone or whose owner the viewer unfollowed stay in the feed
until the clean-up tasks remove them, and are hidden when read. A page short of
visible items reads on (a bounded number of times), and every page with
hasNextPage has an endCursor, even one that shows nothing.
"""

from __future__ import annotations

import itertools
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resolvers.feed import MAX_EXTRA_READS
from settings import Settings
from store import models, social_models
from store.port import Entity, Store
from tests.utils.accounts import bearer, call
from tests.utils.builders import BASE_TIME, photo_at

FEED = """query($first: Int, $after: String, $last: Int, $before: String) { viewer {
  feed(first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { caption } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }"""

VISIBLE, DELETED, UNFOLLOWED = "visible", "deleted", "unfollowed"
_viewers = itertools.count()


async def seed_feed(store: Store, kinds: list[str]) -> tuple[str, list[str]]:
    """A new viewer's feed of len(kinds) items, oldest first: each one visible, its
    photo deleted, or by someone the viewer no longer follows. Returns the viewer's
    id and the visible captions, newest first."""
    n = next(_viewers)
    viewer = f"viewer-{n}"
    followed = models.User(f"followed-{n}", f"followed{n}", "F", BASE_TIME)
    dropped = models.User(f"dropped-{n}", f"dropped{n}", "D", BASE_TIME)
    entities: list[Entity] = [
        social_models.edge_entity(
            social_models.following_key(viewer, followed.id), followed.id, BASE_TIME
        )
    ]
    for i, kind in enumerate(kinds):
        photo = photo_at(dropped if kind == UNFOLLOWED else followed, i)
        entities.append(social_models.feed_item(viewer, photo.key, photo.sort_key))
        if kind != DELETED:
            entities.append(models.photo_to_entity(photo))
    await store.put_many(entities)
    visible = [photo_at(followed, i).caption for i, kind in enumerate(kinds) if kind == VISIBLE]
    return viewer, visible[::-1]


async def feed_page(
    http: httpx.AsyncClient, headers: dict[str, str], **args: Any
) -> dict[str, Any]:
    body = await call(http, FEED, args, headers)
    assert "errors" not in body, body
    page: dict[str, Any] = body["data"]["viewer"]["feed"]
    info = page["pageInfo"]
    # What an Apollo client needs to ask for more: a cursor wherever there is more.
    assert not info["hasNextPage"] or info["endCursor"], page
    assert not info["hasPreviousPage"] or info["startCursor"], page
    return page


async def walk(
    http: httpx.AsyncClient, headers: dict[str, str], size: int, *, backward: bool = False
) -> tuple[list[str], int]:
    """Every caption a walk shows, in feed order, and how many pages it took."""
    seen: list[str] = []
    cursor = None
    for pages in itertools.count(1):
        if backward:
            page = await feed_page(http, headers, last=size, before=cursor)
            seen = [e["node"]["caption"] for e in page["edges"]] + seen
            more, cursor = page["pageInfo"]["hasPreviousPage"], page["pageInfo"]["startCursor"]
        else:
            page = await feed_page(http, headers, first=size, after=cursor)
            seen += [e["node"]["caption"] for e in page["edges"]]
            more, cursor = page["pageInfo"]["hasNextPage"], page["pageInfo"]["endCursor"]
        if not more:
            return seen, pages
        assert pages < 1000, "the walk does not end"
    raise AssertionError("unreachable")


async def test_a_page_of_hidden_items_still_leads_on(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    # Newest first: 2 visible, then more hidden items than a page and its extra reads
    # can cover, then 3 visible.
    hidden = 2 * (1 + MAX_EXTRA_READS) + 1
    kinds = [VISIBLE] * 3 + [DELETED, UNFOLLOWED] * hidden + [VISIBLE] * 2
    viewer, visible = await seed_feed(store, kinds)
    headers = bearer(settings, viewer)

    first = await feed_page(client, headers, first=2)
    assert [e["node"]["caption"] for e in first["edges"]] == visible[:2]
    stuck = await feed_page(client, headers, first=2, after=first["pageInfo"]["endCursor"])
    assert stuck["edges"] == []
    assert stuck["pageInfo"]["hasNextPage"] is True
    rest = await feed_page(client, headers, first=5, after=stuck["pageInfo"]["endCursor"])
    assert [e["node"]["caption"] for e in rest["edges"]] == visible[2:]
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_a_short_page_reads_on_to_fill_itself(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    kinds = [VISIBLE] * 4 + [DELETED] * 3 + [VISIBLE] + [UNFOLLOWED] * 2 + [VISIBLE]
    viewer, visible = await seed_feed(store, kinds)
    headers = bearer(settings, viewer)
    before = store.round_trips
    page = await feed_page(client, headers, first=3)
    # The first read (3 items) shows 1; the next two reads fill the page.
    assert [e["node"]["caption"] for e in page["edges"]] == visible[:3]
    assert store.round_trips - before == 2 * (1 + MAX_EXTRA_READS)
    backward = await feed_page(client, headers, last=3)
    assert [e["node"]["caption"] for e in backward["edges"]] == visible[-3:]


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kinds=st.lists(st.sampled_from([VISIBLE, DELETED, UNFOLLOWED]), max_size=24),
    size=st.integers(min_value=1, max_value=5),
)
async def test_any_walk_shows_every_visible_item_once_and_ends(
    client: httpx.AsyncClient, settings: Settings, store: Store, kinds: list[str], size: int
) -> None:
    viewer, visible = await seed_feed(store, kinds)
    headers = bearer(settings, viewer)
    for backward in (False, True):
        seen, pages = await walk(client, headers, size, backward=backward)
        assert seen == visible
        # Every page but the last reads at least `size` items: the walk ends.
        assert pages <= len(kinds) // size + 1
