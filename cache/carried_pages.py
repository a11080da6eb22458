"""A cached first page carried across a write that adds to its list, instead of
thrown away with it (cache/store.py, for a cache that can carry: cache/memory.py).

A home feed's first page is a list of FeedItems that every fan-out to the viewer
adds to. Invalidated by each of them, it was read from the store again for most
home pages once users posted often enough: a viewer with ten followees gets a
FeedItem every few seconds. A put of FeedItems is therefore applied to the cached
page as the store applied it to the list: each item written takes its place by
its sort key, replacing the item of the same key, and the page keeps its first
`limit`.

That is the store's own first page only while every item that could belong in it
is known: the page's items and those written. A page that held fewer than its
limit held the whole list, so anything written belongs in it. A full page ends at
its last item; past it are items the page never saw, so a written item that sorts
past that end is left out, and when leaving one out (or moving one of its own
items out) leaves the page short, the page cannot be told and is dropped.

Deletes are not carried: a page that loses an item would need the one after its
end, which it never saw.
"""

from __future__ import annotations

from collections.abc import Sequence

from store.port import Entity, Position, Result


def with_written(
    page: Sequence[Result],
    written: Sequence[Entity],
    *,
    order_by: str,
    descending: bool,
    limit: int,
) -> list[Result] | None:
    """The first `limit` results of the list `page` began, once `written` are put
    into it; None when the page alone cannot tell them."""
    latest = {entity.key: entity for entity in written}  # the last put of a key wins
    results = [result for result in page if result.entity.key not in latest]
    for entity in latest.values():
        value = entity.properties.get(order_by)
        if not isinstance(value, str):
            return None  # a position is the sort key's string: not this one
        results.append(Result(entity, Position(value)))
    results.sort(key=lambda result: result.position.value, reverse=descending)
    if len(page) >= limit:
        end = page[-1].position.value
        results = [
            result
            for result in results
            if (result.position.value >= end if descending else result.position.value <= end)
        ]
        if len(results) < limit:
            return None
    return results[:limit]
