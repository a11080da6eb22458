"""Resolvers whose answer an object may already hold.

A home feed photo carries what its page read for it (schema/photo.py `shown`):
its `likeCount` resolver then only returns `shown.like_count`. Marked with
`known_in("shown", "like_count")`, a compiled plan (schema/compiled) reads that
attribute itself and calls the resolver only when `shown` is None, so such a
field costs a photo no call, no Info and no resolver frame. The resolver must
return the same thing in either case: strawberry's own executor always calls it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

KNOWN_IN = "__known_in__"
F = TypeVar("F", bound=Callable[..., object])


def known_in(holder: str, attribute: str) -> Callable[[F], F]:
    """The resolver returns `source.<holder>.<attribute>` whenever `holder` is not None."""

    def mark(resolver: F) -> F:
        setattr(resolver, KNOWN_IN, (holder, attribute))
        return resolver

    return mark
