"""How a compiled field gets its resolver's arguments (compiler.py): coerced once
at compile time when the operation writes them all as literals, else per request
(runner.py), and then only renamed when strawberry's conversion would do no more.
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLScalarType, VariableNode, get_named_type, is_leaf_type
from graphql.execution.values import get_argument_values
from graphql.language import Node
from strawberry.relay.types import GlobalID
from strawberry.types.arguments import convert_arguments
from strawberry.types.base import StrawberryMaybe, StrawberryOptional
from strawberry.types.field import StrawberryField

from schema.compiled.plan import FieldPlan
from schema.compiled.unsupported import Unsupported


def plan_arguments(
    schema: strawberry.Schema,
    plan: FieldPlan,
    args: dict[str, Any],
    strawberry_field: StrawberryField,
) -> None:
    for name, argument in args.items():
        if not is_leaf_type(get_named_type(argument.type)):
            raise Unsupported(f"input object argument {plan.parent_type.name}.{name}")
    node = plan.nodes[0]
    if not args and not node.arguments:
        return  # as graphql-core: no arguments to coerce
    if any(_holds_variable(argument.value) for argument in node.arguments or ()):
        plan.arguments_dynamic = True
        plan.renames = argument_renames(schema, args, strawberry_field)
        return
    try:
        coerced = get_argument_values(plan.field_def or plan.parent_type.fields[plan.name], node)
    except Exception:  # raised again per request, located, as graphql-core would
        plan.arguments_dynamic = True
        return
    plan.kwargs = python_arguments(schema, coerced, strawberry_field)


def argument_renames(
    schema: strawberry.Schema, args: dict[str, Any], strawberry_field: StrawberryField
) -> tuple[tuple[str, str], ...] | None:
    """(GraphQL name, Python name) of each argument when strawberry's conversion
    would only rename them: every one a built-in or custom scalar (not a list,
    an enum, a GlobalID or a strawberry Maybe)."""
    renames = []
    registry = schema.schema_converter.scalar_registry
    for argument in strawberry_field.arguments:
        name = schema.config.name_converter.from_argument(argument)
        type_ = argument.type
        if isinstance(type_, StrawberryOptional) and not isinstance(type_, StrawberryMaybe):
            type_ = type_.of_type
        plain = type_ in registry and type_ is not GlobalID
        if not plain or not isinstance(get_named_type(args[name].type), GraphQLScalarType):
            return None
        renames.append((name, argument.python_name))
    return tuple(renames)


def python_arguments(
    schema: strawberry.Schema, coerced: dict[str, Any], strawberry_field: StrawberryField
) -> dict[str, Any]:
    """Coerced GraphQL arguments as the resolver's keyword arguments, converted as
    strawberry's wrapper converts them (Python names, enum members)."""
    return convert_arguments(
        coerced,
        strawberry_field.arguments,
        scalar_registry=schema.schema_converter.scalar_registry,
        config=schema.config,
    )


def _holds_variable(value: Node) -> bool:
    if isinstance(value, VariableNode):
        return True
    children = getattr(value, "values", None) or getattr(value, "fields", None) or ()
    return any(_holds_variable(getattr(child, "value", child)) for child in children)
