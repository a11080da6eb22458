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

`CarriedPages` does this for CachedStore: it notes the shapes (order, page size)
of the first pages read, looks up their lists' generations before a put, as a
reader looks before it reads, and after the commit carries the pages with the
items put into them. The cache carries only what no invalidation or write of the
same keys ended since that lookup (cache/port.py `CarryingCache`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cache.codec import Codec
from cache.port import CarryingCache, Change, Found, Slot
from cache.slots import generations_written, pages_of, shape
from store.keys import Key
from store.port import Entity, Position, Query, Result
from store.social_models import FEED_ITEM

# Pages whose lists a put only adds to or reorders, with entities stored as put
# (a FeedItem is two strings): a put carries them.
CARRIED_PAGE_KINDS = frozenset({FEED_ITEM})


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


@dataclass(frozen=True)
class Put:
    """A put's entities split by what happens to their lists' pages after the commit."""

    # By the lists' generation: a shape of page read of their kind (the slot looked
    # up before the write), and the entities put in that list.
    lists: dict[str, tuple[str, list[Entity]]]
    uncarried: list[Key]  # invalidated, as any write's
    seen: list[Found]  # each list's generation before the write


class CarriedPages:
    """The first pages of `CARRIED_PAGE_KINDS` read through a carrying cache, and
    their carrying across the puts of their items."""

    def __init__(self, cache: CarryingCache, codec: Codec) -> None:
        self._cache = cache
        self._codec = codec
        # The shapes (order, page size) of the carried kinds' pages read so far, by
        # kind: a put knows which of a list's first pages may be in the cache.
        self._shapes: dict[str, dict[str, tuple[Query, int]]] = {}

    def read(self, query: Query, limit: int) -> None:
        """A first page of `query` is read (and cached) with this shape."""
        if query.kind in CARRIED_PAGE_KINDS:
            self._shapes.setdefault(query.kind, {})[shape(query, limit)] = query, limit

    async def before_put(self, entities: Sequence[Entity]) -> Put:
        """What a put of `entities` carries, looked up before it writes."""
        lists, uncarried = self._lists(entities)
        # The generations before the write, as a reader looks before it reads: a
        # carry applies only if no invalidation, and no other write of the same
        # keys, ended them in between (cache/port.py).
        slots = [Slot(g, g + page_shape) for g, (page_shape, _) in lists.items()]
        seen = await self._cache.lookup(slots) if slots else []
        return Put(lists, uncarried, seen)

    async def after_commit(self, put: Put) -> None:
        """Once `put` has committed: invalidate what it does not carry, carry the rest."""
        if put.uncarried:
            await self._cache.invalidate(generations_written(put.uncarried))
        for (generation, (_, written)), before in zip(put.lists.items(), put.seen, strict=True):
            await self._carry(generation, before.generation, written)

    def _lists(
        self, entities: Sequence[Entity]
    ) -> tuple[dict[str, tuple[str, list[Entity]]], list[Key]]:
        """The entities whose lists' pages a put carries, by the lists' generation
        (with a shape of page read of that kind), and the keys of the others."""
        lists: dict[str, tuple[str, list[Entity]]] = {}
        uncarried: list[Key] = []
        for entity in entities:
            key = entity.key
            shapes = self._shapes.get(key.kind)
            if shapes and len(key.path) == 2:  # the list's only ancestor is its root
                generation = pages_of(key.kind, Key(key.path[:1]))
                lists.setdefault(generation, (next(iter(shapes)), []))[1].append(entity)
            else:
                uncarried.append(key)
        return lists, uncarried

    async def _carry(self, generation: str, seen: str | None, written: list[Entity]) -> None:
        """The list's cached first pages, with `written` put into them."""
        if seen is None:
            await self._cache.invalidate([generation])
            return
        codec = self._codec

        def change(query: Query, limit: int) -> Change:
            def changed(value: object) -> object | None:
                page = with_written(
                    codec.load_results(value),
                    written,
                    order_by=query.order_by,
                    descending=query.descending,
                    limit=limit,
                )
                return None if page is None else codec.dump_results(page)

            return changed

        shapes = self._shapes[written[0].key.kind]
        await self._cache.carry(
            generation,
            seen,
            frozenset(entity.key.encode() for entity in written),
            {
                generation + page_shape: change(query, limit)
                for page_shape, (query, limit) in shapes.items()
            },
        )
