"""graphql-core's Executor.build for an operation run again and again (the direct
path's, graphql_direct.py), less what it works out anew on every request.

Executor.build finds, in the document, the operation and its fragments, and for
each variable its signature (its type, read from the document), then coerces the
request's variables. The first two depend on the document alone: `prepare` keeps
what the first build found. The variables are coerced at once when every one is
a plain value of its type, which coerce_input_value would hand back as it is:
- an ID or a String given a str, a Boolean given a bool, an Int given an int
  within 32 bits (graphql-core's own scalars only);
- null for a nullable variable; a nullable one left out that has no default.
Anything else (a default to apply, a list, an input object, a custom scalar, a
value of another type, null for a non-null variable) goes through graphql-core's
get_variable_values, so that every such value, and every error, is its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeGuard

from graphql import (
    DocumentNode,
    GraphQLBoolean,
    GraphQLError,
    GraphQLID,
    GraphQLInt,
    GraphQLNonNull,
    GraphQLSchema,
    GraphQLString,
    OperationDefinitionNode,
)
from graphql.execution.collect_fields import FragmentDetails
from graphql.execution.execute import default_field_resolver, default_type_resolver
from graphql.execution.executor import Executor
from graphql.execution.get_variable_signature import (
    GraphQLVariableSignature,
    get_variable_signature,
)
from graphql.execution.values import (
    VariableValues,
    VariableValueSource,
    get_variable_values,
)
from graphql.language import FragmentDefinitionNode
from graphql.type.scalars import GRAPHQL_MAX_INT, GRAPHQL_MIN_INT

# As `execute` and Executor.build default it.
MAX_COERCION_ERRORS = 50
# The scalars whose coercion hands back a value of this exact class unchanged.
_PLAIN_CLASSES: dict[object, type] = {
    GraphQLID: str,
    GraphQLString: str,
    GraphQLBoolean: bool,
    GraphQLInt: int,
}


class Stats:
    """How the direct path's requests had their variables coerced: `plain`, here;
    `by_graphql`, by graphql-core's get_variable_values."""

    def __init__(self) -> None:
        self.plain = 0
        self.by_graphql = 0


stats = Stats()


class Variable(NamedTuple):
    name: str
    signature: GraphQLVariableSignature
    plain: type | None  # the class a value is taken as it is (None: never)
    non_null: bool
    has_default: bool


@dataclass(frozen=True)
class Prepared:
    """What Executor.build found in a document for an operation name."""

    document: DocumentNode
    operation: OperationDefinitionNode
    fragment_definitions: dict[str, FragmentDefinitionNode]
    fragments: dict[str, FragmentDetails]
    variables: tuple[Variable, ...] | None  # None: graphql-core coerces them all


def prepare(schema: GraphQLSchema, document: DocumentNode, built: Executor[Any]) -> Prepared:
    """From an executor Executor.build made for `document`."""
    variables: list[Variable] | None = []
    for definition in built.operation.variable_definitions or ():
        signature = get_variable_signature(schema, definition)
        if isinstance(signature, GraphQLError):  # (not after a build: it would have failed)
            variables = None
            break
        non_null = isinstance(signature.type, GraphQLNonNull)
        named = (
            signature.type.of_type if isinstance(signature.type, GraphQLNonNull) else signature.type
        )
        plain = _PLAIN_CLASSES.get(named)
        assert variables is not None
        variables.append(
            Variable(signature.name, signature, plain, non_null, bool(definition.default_value))
        )
    return Prepared(
        document,
        built.operation,
        built.fragment_definitions,
        built.fragments,
        None if variables is None else tuple(variables),
    )


def build(
    executor_class: type[Executor[Any]],
    schema: GraphQLSchema,
    prepared: Prepared,
    context_value: Any,
    inputs: dict[str, Any] | None,
    is_awaitable: Callable[[Any], TypeGuard[Awaitable[Any]]],
    **custom_args: Any,
) -> Executor[Any] | list[GraphQLError]:
    """What executor_class.build(schema, prepared.document, None, context_value,
    inputs, <the operation's name>, is_awaitable=..., **custom_args) returns."""
    values = _plain_values(prepared.variables, inputs or {})
    if values is not None:
        stats.plain += 1
    else:
        stats.by_graphql += 1
        coerced = get_variable_values(
            schema,
            prepared.operation.variable_definitions or (),
            inputs or {},
            max_errors=MAX_COERCION_ERRORS,
            hide_suggestions=False,
        )
        if isinstance(coerced, list):
            return coerced
        values = coerced
    return executor_class(
        schema,
        prepared.fragment_definitions,
        prepared.fragments,
        None,
        context_value,
        prepared.operation,
        values,
        default_field_resolver,
        default_type_resolver,
        default_field_resolver,
        False,
        None,
        is_awaitable,
        None,
        hide_suggestions=False,
        abort_signal=None,
        hooks=None,
        **custom_args,
    )


def _plain_values(
    variables: tuple[Variable, ...] | None, inputs: dict[str, Any]
) -> VariableValues | None:
    """The variables as coerce_variable_values makes them, when all are plain."""
    if variables is None:
        return None
    sources: dict[str, VariableValueSource] = {}
    coerced: dict[str, Any] = {}
    for variable in variables:
        name = variable.name
        if name not in inputs:
            if variable.non_null or variable.has_default:
                return None  # an error, or its default: graphql-core's to say
            sources[name] = VariableValueSource(variable.signature)
            continue
        value: Any = inputs[name]
        if value is None:
            if variable.non_null:
                return None
        elif not _is_plain(value, variable.plain):
            return None
        sources[name] = VariableValueSource(variable.signature, value)
        coerced[name] = value
    return VariableValues(sources, coerced)


def _is_plain(value: Any, plain: type | None) -> bool:
    """Whether coerce_input_value hands `value` back as it is."""
    if plain is int:  # (exactly: a bool is an int to isinstance)
        return type(value) is int and GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT
    return plain is not None and type(value) is plain
