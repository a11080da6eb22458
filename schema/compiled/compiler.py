"""Compile a validated query operation into a Plan, or say why not.

The selections are collected with graphql-core's own `collect_fields` and
`collect_subfields`, so fragments, field merging and `@skip`/`@include` mean
exactly what they mean to its executor; the variables those two directives read
are part of the plan's cache key (see __init__.py), so a plan never depends on
any other variable. Anything this module does not compile raises `Unsupported`
with the reason, and the operation runs on graphql-core's executor instead:
mutations and subscriptions, introspection, directives other than
`@skip`/`@include`, fields with strawberry field extensions (permissions),
exception handlers or input-object arguments, and resolvers that are not
strawberry's.
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import (
    DirectiveNode,
    GraphQLAbstractType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLOutputType,
    OperationType,
    VariableNode,
    Visitor,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
    visit,
)
from graphql.execution.collect_fields import FieldDetailsList, collect_fields, collect_subfields
from graphql.execution.executor import Executor
from graphql.language import Node
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from schema.compiled.arguments import plan_arguments
from schema.compiled.completers import accepted_classes, object_completer
from schema.compiled.list_prefetch import list_prefetch
from schema.compiled.plan import Completion, FieldPlan, Kind, Plan, Source
from schema.compiled.unsupported import Unsupported
from schema.known_values import KNOWN_IN

CONDITIONS = ("skip", "include")


def condition_variables(executor: Executor[Any]) -> tuple[str, ...]:
    """The variables that `@skip(if:)` and `@include(if:)` read, in the operation
    and its fragments (the plan depends on their values and on no other variable's)."""
    names: dict[str, None] = {}

    class Conditions(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: object) -> None:
            if node.name.value not in CONDITIONS:
                raise Unsupported(f"directive @{node.name.value}")
            for argument in node.arguments or ():
                if isinstance(argument.value, VariableNode):
                    names[argument.value.name.value] = None

    nodes: list[Node] = [executor.operation, *executor.fragment_definitions.values()]
    for node in nodes:
        visit(node, Conditions())
    return tuple(names)


def compile_plan(executor: Executor[Any], schema: strawberry.Schema) -> Plan:
    """The plan of the executor's operation, with its variables' values for
    `@skip`/`@include`. Raises Unsupported."""
    if executor.operation.operation is not OperationType.QUERY:
        raise Unsupported(f"{executor.operation.operation.value} operation")
    if not executor.error_propagation:
        raise Unsupported("error propagation disabled")
    root_type = executor.schema.query_type
    assert root_type is not None  # validation refused the operation otherwise
    fields, defers, _ = collect_fields(
        executor.schema,
        executor.fragments,
        executor.variable_values,
        root_type,
        executor.operation,
        executor.hide_suggestions,
    )
    if defers:
        raise Unsupported("@defer")
    root = Completion(Kind.OBJECT, root_type)
    root.object_type = root_type
    _Compiler(executor, schema).fill(root, fields)
    return Plan(root)


class _Compiler:
    def __init__(self, executor: Executor[Any], schema: strawberry.Schema) -> None:
        self.executor = executor
        self.schema = schema

    def fill(self, completion: Completion, fields: dict[str, FieldDetailsList]) -> None:
        object_type = completion.object_type
        assert object_type is not None
        definition = _definition(object_type)
        by_name = {
            self.schema.config.name_converter.get_graphql_name(field): field
            for field in definition.fields
        }
        completion.fields = [
            self.field(object_type, key, details, by_name) for key, details in fields.items()
        ]
        completion.complete = object_completer(completion)

    def field(
        self,
        parent_type: GraphQLObjectType,
        key: str,
        details: FieldDetailsList,
        by_name: dict[str, StrawberryField],
    ) -> FieldPlan:
        name = details[0].node.name.value
        if name == "__typename":
            return FieldPlan(key, name, parent_type, details, Source.TYPENAME)
        if name.startswith("__"):
            raise Unsupported("introspection")
        if any(detail.fragment_variable_values is not None for detail in details):
            raise Unsupported("fragment variables")
        field_def = parent_type.fields[name]
        strawberry_field = by_name[name]
        where = f"{parent_type.name}.{name}"
        if strawberry_field.extensions:
            raise Unsupported(f"field extensions on {where}")
        converter = self.schema.schema_converter
        if converter._get_field_exception_handlers(strawberry_field):
            raise Unsupported(f"exception handlers on {where}")
        if field_def.resolve is None:
            raise Unsupported(f"{where} has no strawberry resolver")
        resolver = strawberry_field.base_resolver
        if resolver is None:
            if not getattr(field_def.resolve, "_is_default", False):
                raise Unsupported(f"{where} is wrapped")
            if self.schema.config.default_resolver is not getattr:
                raise Unsupported("a default resolver other than getattr")
            plan = FieldPlan(key, name, parent_type, details, Source.ATTRIBUTE)
            plan.attribute = strawberry_field.python_name
        else:
            plan = FieldPlan(key, name, parent_type, details, Source.RESOLVER)
            function = resolver.wrapped_func
            if not callable(function):
                raise Unsupported(f"{where}'s resolver is not callable")
            plan.resolver = function
            plan.passes_self = resolver.self_parameter is not None
            plan.source_names = tuple(
                parameter.name
                for parameter in (resolver.parent_parameter, resolver.root_parameter)
                if parameter is not None
            )
            info = resolver.info_parameter
            plan.info_name = info.name if info is not None else None
            if not field_def.args:
                plan.known_in = getattr(function, KNOWN_IN, None)
            plan_arguments(self.schema, plan, field_def.args, strawberry_field)
        plan.field_def = field_def
        plan.strawberry_field = strawberry_field
        plan.completion = self.completion(field_def.type, details)
        leaf = plan.completion.inner if plan.completion.kind is Kind.NON_NULL else plan.completion
        plan.leaf = leaf.leaf if leaf is not None else None
        return plan

    def completion(self, return_type: GraphQLOutputType, details: FieldDetailsList) -> Completion:
        if is_non_null_type(return_type):
            completion = Completion(Kind.NON_NULL, return_type)
            completion.inner = self.completion(return_type.of_type, details)
            return completion
        if is_list_type(return_type):
            completion = Completion(Kind.LIST, return_type)
            completion.inner = self.completion(return_type.of_type, details)
            completion.prefetch = list_prefetch(completion.inner)
            return completion
        if is_leaf_type(return_type):
            completion = Completion(Kind.LEAF, return_type)
            completion.leaf = return_type
            return completion
        if is_object_type(return_type):
            return self.object_completion(return_type, return_type, details)
        assert isinstance(return_type, GraphQLAbstractType)
        return self.abstract_completion(return_type, details)

    def object_completion(
        self,
        return_type: GraphQLOutputType,
        object_type: GraphQLObjectType,
        details: FieldDetailsList,
    ) -> Completion:
        completion = Completion(Kind.OBJECT, return_type)
        completion.object_type = object_type
        definition = _definition(object_type)
        if definition.is_type_of is not None:
            raise Unsupported(f"{object_type.name} has its own is_type_of")
        completion.origin = definition.origin
        # Without is_type_of graphql-core takes any value; with strawberry's (for
        # types with interfaces) an instance of exactly the type is one it accepts.
        completion.checked = object_type.is_type_of is not None
        completion.classes = accepted_classes(definition.origin, completion.checked)
        fields, defers, _ = collect_subfields(
            self.executor.schema,
            self.executor.fragments,
            self.executor.variable_values,
            self.executor.operation,
            object_type,
            details,
            self.executor.hide_suggestions,
        )
        if defers:
            raise Unsupported("@defer")
        self.fill(completion, fields)
        return completion

    def abstract_completion(
        self, return_type: GraphQLAbstractType, details: FieldDetailsList
    ) -> Completion:
        completion = Completion(Kind.ABSTRACT, return_type)
        if not isinstance(return_type, GraphQLInterfaceType):
            return completion  # a union: every value goes to graphql-core's completion
        interface = return_type.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
        if interface is None or interface.resolve_type:
            return completion
        # strawberry's resolve_type names a (non-generic) instance's own type.
        for object_type in self.executor.schema.get_possible_types(return_type):
            definition = _definition(object_type)
            if not definition.is_graphql_generic and issubclass(
                definition.origin, interface.origin
            ):
                completion.by_class[definition.origin] = self.object_completion(
                    return_type, object_type, details
                )
        return completion


def _definition(object_type: GraphQLObjectType) -> StrawberryObjectDefinition:
    definition = object_type.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryObjectDefinition):
        raise Unsupported(f"{object_type.name} is not a strawberry type")
    return definition
