"""Relay connection types, generic over the node type (PhotoConnection, ...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import strawberry

from resolvers.pagination import Page

Model = TypeVar("Model")
NodeType = TypeVar("NodeType")


@strawberry.type(description="Where a page stands in its list (Relay Cursor Connections).")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeType]):
    node: NodeType
    cursor: str = strawberry.field(description="Opaque; pass it as `after` or `before`.")


@strawberry.type
class Connection(Generic[NodeType]):
    edges: list[Edge[NodeType]]
    page_info: PageInfo

    @strawberry.field(description="The nodes of `edges`, for clients that need no cursors.")
    def nodes(self) -> list[NodeType]:
        return [edge.node for edge in self.edges]


def to_connection(page: Page[Model], convert: Callable[[Model], NodeType]) -> Connection[NodeType]:
    return Connection(
        edges=[Edge(node=convert(edge.node), cursor=edge.cursor) for edge in page.edges],
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.start_cursor,
            end_cursor=page.end_cursor,
        ),
    )
