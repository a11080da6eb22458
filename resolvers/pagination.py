"""Relay Cursor Connections over the store port.

Follows the spec's algorithm: `after` and `before` cut the list first, then
`first` takes from the front or `last` from the back. One store query reads one
item more than asked, which makes hasNextPage exact when paging forward and
hasPreviousPage exact when paging backward. The other flag is false, as the spec
allows, because answering it would cost a second query.

A page's start and end cursors are the positions of the first and last items
*read*, which are those of its first and last edges unless a reader hides some
(the home feed's deleted photos, a follower who left). So a page whose items
were all hidden still says where the next page starts, and an infinite scroll
never stalls on `hasNextPage: true` with no `endCursor`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from errors import BadUserInput
from resolvers.cursors import CursorCodec
from store.port import Entity, Query, Store

T = TypeVar("T")
U = TypeVar("U")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 50


@dataclass(frozen=True)
class PageArgs:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


# Not frozen, though never changed once made: a frozen dataclass's __init__ sets
# each field through object.__setattr__, twice the cost, and a page makes an edge
# an item (the home feed two).
@dataclass(slots=True)
class Edge(Generic[T]):
    node: T
    cursor: str


@dataclass(frozen=True)
class Page(Generic[T]):
    edges: list[Edge[T]]
    has_next_page: bool
    has_previous_page: bool
    # The cursors of the first and last items read; None for a page read empty.
    start_cursor: str | None = None
    end_cursor: str | None = None

    @property
    def node_list(self) -> list[T]:
        return [edge.node for edge in self.edges]

    def keeping(self, edges: list[Edge[U]]) -> Page[U]:
        """This page with only `edges` shown: the flags and the cursors stay."""
        return Page(
            edges, self.has_next_page, self.has_previous_page, self.start_cursor, self.end_cursor
        )


def page_size(args: PageArgs) -> int:
    if args.first is not None and args.last is not None:
        raise BadUserInput("Pass either `first` or `last`, not both.", argument="first")
    for name, value in (("first", args.first), ("last", args.last)):
        if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
            raise BadUserInput(f"`{name}` must be between 0 and {MAX_PAGE_SIZE}.", argument=name)
    size = args.first if args.first is not None else args.last
    return DEFAULT_PAGE_SIZE if size is None else size


async def paginate(
    store: Store,
    codec: CursorCodec,
    query: Query,
    scope: str,
    args: PageArgs,
    convert: Callable[[Entity], T],
) -> Page[T]:
    """One page of `query`, whose cursors are bound to `scope` (a string naming
    the list: the same list must always give the same scope)."""
    size = page_size(args)
    after = codec.decode(scope, args.after) if args.after is not None else None
    before = codec.decode(scope, args.before) if args.before is not None else None
    from_end = args.last is not None
    results = await store.page(query, limit=size + 1, after=after, before=before, from_end=from_end)
    more = len(results) > size
    if more:
        results = results[1:] if from_end else results[:size]
    edges = [Edge(convert(r.entity), codec.encode(scope, r.position)) for r in results]
    return Page(
        edges,
        has_next_page=more and not from_end,
        has_previous_page=more and from_end,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
