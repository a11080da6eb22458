"""Notifications page by a position that never changes.

A new event on a notification ("bob and 3 others liked your photo") makes a new
item at the top and removes the old one, so a client walking the list by cursor
never sees one item twice, and sees every item that did not change during the
walk exactly once. The new item, with its new id, is found at the head, as any
new notification is.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from settings import Settings
from store.port import Store
from taskqueue.context import TaskInfo
from tasks.notifications import notify
from tests.conftest import graphql
from tests.test_social import LIKE, mutate, pid
from tests.utils.accounts import bearer, call
from tests.utils.builders import BASE_TIME, make_photos, make_user
from tests.utils.contexts import app_task_context
from tests.utils.draining import drain

NOTIFICATIONS = """query($first: Int, $after: String, $last: Int, $before: String) { viewer {
  notifications(first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { id actorCount photo { id } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }"""
NODE = "query($id: ID!) { node(id: $id) { id } }"

_recipients = itertools.count()
_seconds = itertools.count(1)


class Inbox:
    """One recipient's notifications: LIKEs on their photos p0, p1, ..., written by
    the `notify` task handler itself, each event a second after the last."""

    def __init__(self, http: httpx.AsyncClient, settings: Settings, store: Store) -> None:
        self.http, self.store = http, store
        self.recipient = f"recipient-{next(_recipients)}"
        self.headers = bearer(settings, self.recipient)
        self.actors = itertools.count()

    def subject(self, photo: int) -> str:
        return f"User/{self.recipient}/Photo/p{photo}"

    async def like(self, photo: int) -> None:
        at = BASE_TIME + timedelta(seconds=next(_seconds))
        info = TaskInfo("notify", "default", f"notify-{photo}")
        payload = {
            "recipient": self.recipient,
            "kind": "LIKE",
            "subject": self.subject(photo),
            "actor": f"fan-{next(self.actors)}",
        }
        await notify(payload, app_task_context(self.http, info, store=self.store, clock=lambda: at))

    async def page(self, **args: Any) -> dict[str, Any]:
        body = await call(self.http, NOTIFICATIONS, args, self.headers)
        assert "errors" not in body, body
        page: dict[str, Any] = body["data"]["viewer"]["notifications"]
        return page

    async def ids(self) -> list[str]:
        """Every notification's id, newest first, read in one page."""
        return [e["node"]["id"] for e in (await self.page(first=50))["edges"]]


async def walk(inbox: Inbox, size: int, backward: bool, between: list[list[int]]) -> list[str]:
    """The ids a walk shows, in the order shown, with the photos of between[i]
    liked again after page i."""
    shown: list[str] = []
    cursor = None
    for n in itertools.count():
        if backward:
            page = await inbox.page(last=size, before=cursor)
            shown += [e["node"]["id"] for e in reversed(page["edges"])]
            more, cursor = page["pageInfo"]["hasPreviousPage"], page["pageInfo"]["startCursor"]
        else:
            page = await inbox.page(first=size, after=cursor)
            shown += [e["node"]["id"] for e in page["edges"]]
            more, cursor = page["pageInfo"]["hasNextPage"], page["pageInfo"]["endCursor"]
        for photo in between[n] if n < len(between) else []:
            await inbox.like(photo)
        if not more:
            return shown
    raise AssertionError("unreachable")


def check_walk(before: list[str], after: list[str], shown: list[str]) -> None:
    """No item twice; every item there before and after the walk (so unchanged) once.
    (An item made during the walk may be shown or not, as any new one.)"""
    assert len(shown) == len(set(shown)), shown
    unchanged = set(before) & set(after)
    assert unchanged <= set(shown), unchanged - set(shown)


async def test_a_liked_again_notification_is_a_new_item_at_the_top(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    inbox = Inbox(client, settings, store)
    for photo in range(3):
        await inbox.like(photo)
    old = await inbox.ids()
    await inbox.like(0)  # the oldest notification, liked again
    new = await inbox.ids()
    assert len(new) == 3
    assert new[1:] == old[:2]  # the others kept their places and ids
    assert new[0] not in old  # a new item...
    top = (await inbox.page(first=1))["edges"][0]["node"]
    assert (top["actorCount"], top["photo"]) == (2, None)
    # ...and the old one is gone: refetching it gives null, as Relay expects.
    assert await graphql_as(inbox, NODE, {"id": old[2]}) == {"data": {"node": None}}


async def graphql_as(inbox: Inbox, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    return await call(inbox.http, query, variables, inbox.headers)


async def test_the_walks_of_issue_11_show_each_notification_once(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    for backward in (False, True):
        inbox = Inbox(client, settings, store)
        for photo in range(26):
            await inbox.like(photo)
        before = await inbox.ids()
        # Between pages: one not yet reached and one already shown are liked again.
        between = [[2, 24] if not backward else [22, 1], [], [5]]
        shown = await walk(inbox, 5, backward, between)
        check_walk(before, await inbox.ids(), shown)
        assert len(shown) >= 26 - 3


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
async def test_any_walk_with_any_merges_between_pages_shows_no_item_twice_and_none_missed(
    client: httpx.AsyncClient, settings: Settings, store: Store, data: st.DataObject
) -> None:
    count = data.draw(st.integers(min_value=1, max_value=10), label="notifications")
    size = data.draw(st.integers(min_value=1, max_value=5), label="page size")
    backward = data.draw(st.booleans(), label="backward")
    photo = st.integers(min_value=0, max_value=count - 1)
    between = data.draw(st.lists(st.lists(photo, max_size=3), max_size=count), label="merges")
    inbox = Inbox(client, settings, store)
    for n in range(count):
        await inbox.like(n)
    before = await inbox.ids()
    shown = await walk(inbox, size, backward, between)
    check_walk(before, await inbox.ids(), shown)


async def test_node_ids_of_notifications_stay_the_recipients(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    inbox = Inbox(client, settings, store)
    await inbox.like(0)
    [only] = await inbox.ids()
    mine = await graphql_as(inbox, NODE, {"id": only})
    assert mine == {"data": {"node": {"id": only}}}
    assert await graphql(client, NODE, {"id": only}) == {"data": {"node": None}}


@pytest.mark.slow  # waits seconds for batched background tasks
async def test_likes_through_the_app_replace_the_item_too(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    """The batched fan-in (tasks/fan_in.py) writes notifications the same way."""
    alice, bob, carol = [await make_user(store, name) for name in ("alice", "bob", "carol")]
    [photo] = await make_photos(store, alice, 1)
    inbox = Inbox(client, settings, store)
    inbox.recipient, inbox.headers = alice.id, bearer(settings, alice.id)
    await mutate(client, LIKE, bearer(settings, bob.id), photoId=pid(photo))
    await drain(client)
    [first] = await inbox.ids()
    await mutate(client, LIKE, bearer(settings, carol.id), photoId=pid(photo))
    await drain(client)
    [second] = await inbox.ids()
    assert second != first
    assert (await inbox.page(first=1))["edges"][0]["node"]["actorCount"] == 2
    assert await graphql_as(inbox, NODE, {"id": first}) == {"data": {"node": None}}
