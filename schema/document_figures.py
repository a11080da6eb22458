"""What a parsed document asks for, measured in one pass over its text.

Fragments are what make naive measures explode: 30 fragments, each spreading the
next one twice, expand to 2^30 fields. So every definition is walked once, on
its own, into a summary (its own fields, and the fragments it spreads at which
level), and `fold_fragments` combines the summaries with each fragment's figure
computed once. The walks use explicit stacks: a chain of fragments or deep
nesting cannot exhaust Python's recursion limit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)


@dataclass(frozen=True)
class DocumentFigures:
    operations: int
    # Field selections and fragment spreads as written (a fragment's once): what
    # graphql-core's overlapping-fields rule compares pairwise, so a document of one
    # field repeated 400 times takes it 0.4 s; this bounds that work.
    fields: int
    aliases: int
    directives: int
    # Fields nested in one another, fragments expanded; a root field is 1. What is
    # inside an introspection field does not count: its nesting is bounded by
    # graphql-core's MaxIntrospectionDepthRule, and GraphiQL's own introspection
    # query nests `ofType` 15 deep.
    depth: int


@dataclass
class Summary:
    """One definition's own figure and the fragments it spreads, each with the
    factor (a level, a multiplier) at which it is spread."""

    own: int = 0
    spreads: list[tuple[int, str]] = field(default_factory=list)


def fold_fragments(
    summaries: Mapping[str, Summary],
    roots: Sequence[Summary],
    through: Callable[[int, int], int],
    join: Callable[[int, int], int],
) -> list[int]:
    """Each root's figure, where a spread of fragment F at factor k contributes
    `through(k, figure(F))`, joined with `join`. Each fragment is computed once;
    an unknown fragment or one in a cycle (both validation errors) counts 0."""
    figures: dict[str, int] = {}
    opened: set[str] = set()

    def figure(summary: Summary) -> int:
        value = summary.own
        for factor, name in summary.spreads:
            value = join(value, through(factor, figures.get(name, 0)))
        return value

    for start in summaries:
        stack = [start]
        while stack:
            name = stack[-1]
            if name in figures:
                stack.pop()
            elif name not in opened:
                opened.add(name)
                stack.extend(
                    child
                    for _, child in summaries[name].spreads
                    if child in summaries and child not in opened
                )
            else:
                figures[name] = figure(summaries[name])
                stack.pop()
    return [figure(root) for root in roots]


def measure(document: DocumentNode) -> DocumentFigures:
    operations = 0
    fields = 0
    aliases = 0
    directives = 0
    fragments: dict[str, Summary] = {}
    roots: list[Summary] = []
    for definition in document.definitions:
        directives += len(getattr(definition, "directives", None) or ())
        if isinstance(definition, OperationDefinitionNode):
            operations += 1
            for variable in definition.variable_definitions or ():
                directives += len(variable.directives or ())
            summary = Summary()
            roots.append(summary)
        elif isinstance(definition, FragmentDefinitionNode):
            summary = fragments.setdefault(definition.name.value, Summary())
        else:
            continue  # type definitions: the executable-definitions rule refuses them
        for level, node, introspective in _selections(definition.selection_set):
            directives += len(node.directives or ())
            fields += not isinstance(node, InlineFragmentNode)
            if isinstance(node, FieldNode):
                aliases += node.alias is not None
                if not introspective:
                    summary.own = max(summary.own, level + 1)
            elif isinstance(node, FragmentSpreadNode) and not introspective:
                summary.spreads.append((level, node.name.value))
    depths = fold_fragments(fragments, roots, through=int.__add__, join=max)
    return DocumentFigures(operations, fields, aliases, directives, max(depths, default=0))


Selection = FieldNode | FragmentSpreadNode | InlineFragmentNode


def _selections(selection_set: SelectionSetNode) -> Iterator[tuple[int, Selection, bool]]:
    """Every selection under `selection_set`, with the number of fields above it and
    whether it is inside an introspection field (`__schema`, `__type`)."""
    stack = [(0, selection_set, False)]
    while stack:
        level, current, introspective = stack.pop()
        for node in current.selections:
            yield level, node, introspective  # type: ignore[misc]
            if isinstance(node, FieldNode) and node.selection_set is not None:
                inside = introspective or node.name.value.startswith("__")
                stack.append((level + 1, node.selection_set, inside))
            elif isinstance(node, InlineFragmentNode):
                stack.append((level, node.selection_set, introspective))
