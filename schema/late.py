"""The object types refer to each other (a Photo's owner is a User, a User's
photos are Photos), so their modules must not import each other at run time: that
would be an import cycle (tests/test_import_contracts.py). They name each other
for mypy under TYPE_CHECKING, for the schema with `strawberry.lazy`, and a field
that builds another type's object finds its class here, by module, when it first
runs: the way strawberry resolves a lazy annotation.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any


@cache
def object_type(module: str, name: str) -> Any:
    """The class `name` of `module`; annotate the result with the class's type."""
    return getattr(importlib.import_module(module), name)
