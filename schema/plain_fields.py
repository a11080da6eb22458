"""Plain fields completed in one step.

Most fields on a page are plain: a scalar or enum attribute of the object
(`id`, `caption`, `createdAt`, `cursor`, `width`...), with no resolver, no
arguments, no extension. graphql-core executes each like any other field: it
builds a resolve info, calls strawberry's wrapper around getattr, asks whether the
result is awaitable, then completes it through the non-null, list and leaf
checks. On a page of 20 photos that is about 160 of its 200 fields.

`PlainFieldsExecution` reads such a field's attribute and coerces it itself, and
hands the field to graphql-core's own path whenever anything is unusual: a null,
an exception, an attribute that is not there, a coercion that fails or returns
nothing, resolver middleware. That path then produces the same value or the
same error at the same path, so responses are identical either way
(tests/test_plain_fields.py runs both on the same operations).
"""

from __future__ import annotations

from typing import Any, ClassVar

import strawberry
from graphql import GraphQLLeafType, GraphQLObjectType, Undefined, get_nullable_type, is_leaf_type
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.base import StrawberryObjectDefinition

# (object type name, field name) -> (attribute name, its leaf type)
PlainFields = dict[tuple[str, str], tuple[str, GraphQLLeafType]]


class PlainFieldsExecution(StrawberryGraphQLCoreExecutionContext):
    plain_fields: ClassVar[PlainFields] = {}  # set per schema by `enable`

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        plain = self.plain_fields.get((parent_type.name, field_details_list[0].node.name.value))
        if plain is not None and not self._has_middleware():
            attribute, leaf_type = plain
            try:
                value = getattr(source, attribute)
                if value is None or isinstance(value, BaseException) or self.is_awaitable(value):
                    coerced = None
                else:
                    coerced = leaf_type.coerce_output_value(value)
            except Exception:  # graphql-core's path raises it again, located
                coerced = None
            if coerced is not None and coerced is not Undefined:
                return coerced
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def _has_middleware(self) -> bool:
        manager = self.middleware_manager
        return manager is not None and bool(manager.middlewares)


def enable(schema: strawberry.Schema) -> None:
    """Execute `schema`'s operations with PlainFieldsExecution."""
    schema.execution_context_class = type(
        "PlainFieldsExecution",
        (PlainFieldsExecution,),
        {"plain_fields": plain_fields(schema)},
    )


def plain_fields(schema: strawberry.Schema) -> PlainFields:
    """The fields whose resolver is strawberry's bare getattr and whose type is a
    scalar or an enum."""
    if schema.config.default_resolver is not getattr:
        return {}
    found: PlainFields = {}
    for concrete in schema.schema_converter.type_map.values():
        definition, implementation = concrete.definition, concrete.implementation
        if not isinstance(definition, StrawberryObjectDefinition) or not isinstance(
            implementation, GraphQLObjectType
        ):
            continue
        for field in definition.fields:
            name = schema.config.name_converter.get_graphql_name(field)
            graphql_field = implementation.fields.get(name)
            if graphql_field is None or not field.is_basic_field or graphql_field.args:
                continue
            if not getattr(graphql_field.resolve, "_is_default", False):
                continue  # strawberry wraps it (an exception handler): leave it be
            leaf_type = get_nullable_type(graphql_field.type)
            if is_leaf_type(leaf_type):
                found[implementation.name, name] = (field.python_name, leaf_type)
    return found
