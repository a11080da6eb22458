"""The cost of an operation: how many fields it can resolve, at most.

Each field costs 1 for every parent object it is resolved on, so a connection's
page size multiplies the cost of everything selected under it: in
`photos(first: 50) { edges { node { comments(first: 10) { nodes { id } } } } }`,
`comments` costs 50 and `id` 500. This is GitHub's node count, with every field
counted rather than only the nodes. A connection's size is its `first` or
`last` (variables resolved), else the argument's default, else the default page
size; a list field with a list argument (`nodes(ids:)`) is as long as that list.

The model over-counts where execution merges: two spreads of one fragment in one
selection set count twice. Only a hostile document does that at scale (30 fragments
each spreading the next twice counts 2^30), and it is then refused, as it should be.
Run on a validated document: fields and types are known to exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    value_from_ast_untyped,
)
from graphql.utilities import get_operation_ast

from resolvers.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from resolvers.task_admin import MAX_RUNS
from schema.document_figures import Summary, fold_fragments
from schema.query import MAX_NODES

PAGE_ARGUMENTS = ("first", "last")
# No list field returns more (connections stop at 50 items, nodes(ids:) at 100,
# taskRuns at 500): a larger page is refused before anything under it runs, so
# counting it as this many leaves the refusal to the resolver's BAD_USER_INPUT,
# which says what the largest page is.
LONGEST_LIST = max(MAX_PAGE_SIZE, MAX_NODES, MAX_RUNS)


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int | None:
    """The cost of the operation that would run; None when there is no such
    operation (strawberry refuses the request then)."""
    return measure_cost(schema, document, operation_name, variables).cost


@dataclass
class Measured:
    """A cost and what it read of the variables to find it: each read's kind
    (a page size, a list's length), the variable, and what the read gave.
    Nothing else of the variables counts, and which reads are made depends
    on the document alone, so another request whose reads give the same
    answers costs the same (schema/cost_cache.py). `cacheable` is False when
    a page size held a variable in a literal (which validation refuses)."""

    cost: int | None
    reads: list[tuple[str, str, int | None]] = field(default_factory=list)
    cacheable: bool = True


def measure_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> Measured:
    operation = get_operation_ast(document, operation_name)
    root = schema.get_root_type(operation.operation) if operation else None
    if operation is None or root is None:
        return Measured(None)
    inputs = _Inputs(operation_values(operation, variables), Measured(None))
    fragments: dict[str, Summary] = {}
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            condition = schema.get_type(definition.type_condition.name.value)
            fragments[definition.name.value] = _summary(
                schema, definition.selection_set, condition, inputs
            )
    [cost] = fold_fragments(
        fragments,
        [_summary(schema, operation.selection_set, root, inputs)],
        through=int.__mul__,
        join=int.__add__,
    )
    inputs.measured.cost = cost
    return inputs.measured


def operation_values(
    operation: OperationDefinitionNode, variables: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The request's variables, with the operation's defaults for those it leaves out."""
    values = dict(variables or {})
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in values and definition.default_value is not None:
            values[name] = value_from_ast_untyped(definition.default_value)
    return values


def read_variable(kind: str, value: object) -> int | None:
    """What a cost reads of a variable: a page size (`size`) or a list's `length`."""
    if kind == "size":
        return _size(value)
    return len(value) if isinstance(value, list) else 1


@dataclass
class _Inputs:
    values: dict[str, Any]
    measured: Measured

    def size(self, node: ValueNode) -> int | None:
        if isinstance(node, VariableNode):
            return self._read("size", node)
        if _has_variable(node):  # not a valid page size; not read by name either
            self.measured.cacheable = False
        return _size(value_from_ast_untyped(node, self.values))

    def length(self, node: ValueNode) -> int:
        """A list argument's length, read without converting its items (so a
        literal list's is its own, whatever variables it holds)."""
        if isinstance(node, VariableNode):
            return self._read("length", node) or 0  # never None: a length
        return len(node.values) if isinstance(node, ListValueNode) else 1

    def _read(self, kind: str, node: VariableNode) -> int | None:
        name = node.name.value
        answer = read_variable(kind, self.values.get(name))
        self.measured.reads.append((kind, name, answer))
        return answer


def _has_variable(node: ValueNode) -> bool:
    if isinstance(node, VariableNode):
        return True
    if isinstance(node, ListValueNode):
        return any(_has_variable(item) for item in node.values)
    if isinstance(node, ObjectValueNode):
        return any(_has_variable(item.value) for item in node.fields)
    return False


def _summary(
    schema: GraphQLSchema,
    selection_set: SelectionSetNode,
    parent: GraphQLNamedType | None,
    inputs: _Inputs,
) -> Summary:
    summary = Summary()
    stack: list[tuple[SelectionSetNode, GraphQLNamedType | None, int]] = [
        (selection_set, parent, 1)
    ]
    while stack:
        current, parent_type, factor = stack.pop()
        for node in current.selections:
            if isinstance(node, FragmentSpreadNode):
                summary.spreads.append((factor, node.name.value))
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                narrowed = schema.get_type(condition.name.value) if condition else parent_type
                stack.append((node.selection_set, narrowed, factor))
            elif isinstance(node, FieldNode):
                summary.own += factor
                definition = _field(schema, parent_type, node.name.value)
                if definition is not None and node.selection_set is not None:
                    size = _list_size(node, definition, inputs)
                    stack.append(
                        (node.selection_set, get_named_type(definition.type), factor * size)
                    )
    return summary


def _field(
    schema: GraphQLSchema, parent: GraphQLNamedType | None, name: str
) -> GraphQLField | None:
    if parent is schema.query_type and name == "__schema":
        return SchemaMetaFieldDef
    if parent is schema.query_type and name == "__type":
        return TypeMetaFieldDef
    if name == "__typename":
        return TypeNameMetaFieldDef
    fields: dict[str, GraphQLField] = getattr(parent, "fields", {})
    return fields.get(name)


def _list_size(node: FieldNode, definition: GraphQLField, inputs: _Inputs) -> int:
    """How many objects the field can return: a connection's page size, the length
    of a list argument of a list field, else 1."""
    given = {argument.name.value: argument.value for argument in node.arguments or ()}
    if any(name in definition.args for name in PAGE_ARGUMENTS):
        sizes = [
            size
            for name in PAGE_ARGUMENTS
            if name in given and (size := inputs.size(given[name])) is not None
        ]
        if sizes:
            return max(sizes)
        default = definition.args["first"].default_value if "first" in definition.args else None
        return _size(default) or DEFAULT_PAGE_SIZE
    if isinstance(get_nullable_type(definition.type), GraphQLList):
        return min(
            max((inputs.length(value) for value in given.values()), default=1),
            LONGEST_LIST,
        )
    return 1


def _size(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return max(0, min(value, LONGEST_LIST))
    return None
