"""What a compiled operation is made of: for each selection, the fields to write
and, for each field, how to get its value and how to complete it.

Everything graphql-core works out per field and per object on every request
(the field's definition, its resolver behind strawberry's wrapper, its
arguments when they hold no variable, the sub-selection of each object, which
fragments apply) is worked out here once per operation. Built by compiler.py,
run by runner.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import IntEnum
from typing import TYPE_CHECKING, Any, TypeAlias

from graphql import FieldNode, GraphQLField, GraphQLLeafType, GraphQLObjectType, GraphQLOutputType
from graphql.execution.collect_fields import FieldDetailsList
from strawberry.types.field import StrawberryField

from schema.compiled.prefetch import Prefetch

if TYPE_CHECKING:
    from graphql.pyutils import Path

    from schema.compiled.runner import Run

# An OBJECT completion's own function (completers.py): its fields for one object.
ObjectCompleter: TypeAlias = Callable[
    ["Run", Any, "Path | None"], "dict[str, Any] | Awaitable[dict[str, Any]]"
]


class Kind(IntEnum):
    """How a completion treats the value it is given."""

    NON_NULL = 0
    LIST = 1
    LEAF = 2
    OBJECT = 3
    ABSTRACT = 4


class Completion:
    """How to turn a resolved value into its part of the response.

    NON_NULL and LIST wrap `inner`; LEAF coerces with `leaf`; OBJECT writes
    `fields` for values of class `origin` (any value when `checked` is False);
    ABSTRACT picks the OBJECT completion of the value's class in `by_class`.
    A value the plan does not expect (another class, a cast object) is handed
    to graphql-core's own completion with the same `return_type`, so that the
    answer is what it would have been anyway.
    """

    __slots__ = (
        "by_class",
        "checked",
        "classes",
        "complete",
        "fields",
        "inner",
        "kind",
        "leaf",
        "object_type",
        "origin",
        "prefetch",
        "return_type",
    )

    def __init__(self, kind: Kind, return_type: GraphQLOutputType) -> None:
        self.kind = kind
        self.return_type = return_type
        self.inner: Completion | None = None
        self.leaf: GraphQLLeafType | None = None
        self.object_type: GraphQLObjectType | None = None
        self.origin: type | None = None
        self.checked = False
        # The classes of the values `complete` takes without graphql-core's checks.
        self.classes: frozenset[type] = frozenset()
        self.fields: list[FieldPlan] = []
        # For OBJECT, the function writing `fields` (completers.py), set once they are.
        self.complete: ObjectCompleter | None = None
        self.by_class: dict[type, Completion] = {}
        # A LIST's one batched get for its objects' fields (prefetch.py).
        self.prefetch: Prefetch | None = None


class Source(IntEnum):
    """Where a field's value comes from."""

    TYPENAME = 0  # the parent type's name
    ATTRIBUTE = 1  # an attribute of the parent object
    RESOLVER = 2  # the resolver function, called directly


class FieldPlan:
    """One response key of one object type: its value, then its completion."""

    __slots__ = (
        "arguments_dynamic",
        "attribute",
        "completion",
        "details",
        "field_def",
        "info_name",
        "key",
        "known_in",
        "kwargs",
        "leaf",
        "name",
        "nodes",
        "parent_type",
        "passes_self",
        "renames",
        "resolver",
        "source",
        "source_names",
        "strawberry_field",
    )

    def __init__(
        self,
        key: str,
        name: str,
        parent_type: GraphQLObjectType,
        details: FieldDetailsList,
        source: Source,
    ) -> None:
        self.key = key
        self.name = name
        self.parent_type = parent_type
        self.details = details
        self.nodes: list[FieldNode] = [detail.node for detail in details]
        self.source = source
        self.field_def: GraphQLField | None = None
        self.strawberry_field: StrawberryField | None = None
        self.attribute = ""
        self.resolver: Callable[..., Any] | None = None
        self.passes_self = False
        # Keyword names the resolver takes the parent object (root, parent) and Info by.
        self.source_names: tuple[str, ...] = ()
        self.info_name: str | None = None
        # (holder, attribute): the resolver's answer when source.<holder> is not None
        # (schema/known_values.py), read without calling it.
        self.known_in: tuple[str, str] | None = None
        # Python keyword arguments, converted once when they hold no variable;
        # otherwise (arguments_dynamic) coerced and converted per request.
        self.kwargs: dict[str, Any] = {}
        self.arguments_dynamic = False
        # (GraphQL name, Python name) when converting the arguments is renaming them.
        self.renames: tuple[tuple[str, str], ...] | None = None
        self.completion: Completion | None = None
        # The leaf type when the field is a scalar or enum (nullable or not).
        self.leaf: GraphQLLeafType | None = None


class Plan:
    """A compiled query operation: the root type's fields."""

    __slots__ = ("root",)

    def __init__(self, root: Completion) -> None:
        self.root = root
