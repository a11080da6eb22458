"""The Relay Node interface: anything with a global id can be refetched by it."""

from __future__ import annotations

import strawberry


@strawberry.interface(description="An object with a global, opaque, refetchable id.")
class Node:
    id: strawberry.ID
