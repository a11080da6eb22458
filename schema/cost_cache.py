"""Operation costs found once per document and what the variables make of it.

The cost of an operation (schema/query_cost.py) depends on its document and on
a few readings of its variables: the page sizes they give and the lengths of
the lists they pass. Which readings are made depends on the document alone, so
a request whose readings answer the same as an earlier one's has the same cost:
`$n: 20` costs what it did, whatever `$id` is, and is not walked again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import DocumentNode, GraphQLSchema
from graphql.utilities import get_operation_ast

from schema.document_cache import DocumentCache
from schema.query_cost import measure_cost, operation_values, read_variable

# Distinct readings kept per operation: an app's pages ask for a handful of sizes.
READINGS_PER_OPERATION = 32


@dataclass
class _Costs:
    reads: tuple[tuple[str, str], ...]  # (kind, variable), in the order they are made
    by_readings: dict[tuple[int | None, ...], int | None] = field(default_factory=dict)


class CostCache:
    """Costs by (document text, operation name) and readings; `measured` counts
    the walks of a document (a test's figure)."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self._entries: DocumentCache[_Costs] = DocumentCache(max_entries, max_bytes)
        self.measured = 0

    def cost(
        self,
        schema: GraphQLSchema,
        query: str,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> int | None:
        key = (query, operation_name)
        known = self._entries.get(key)
        if known is not None:
            operation = get_operation_ast(document, operation_name)
            assert operation is not None  # known: it was found before
            values = operation_values(operation, variables)
            readings = tuple(read_variable(kind, values.get(name)) for kind, name in known.reads)
            if readings in known.by_readings:
                return known.by_readings[readings]
        self.measured += 1
        measured = measure_cost(schema, document, operation_name, variables)
        if measured.cost is None or not measured.cacheable:
            return measured.cost
        reads = tuple((kind, name) for kind, name, _ in measured.reads)
        if known is None or known.reads != reads:
            known = _Costs(reads)
            self._entries.put(key, known, size=len(query))
        if len(known.by_readings) >= READINGS_PER_OPERATION:
            known.by_readings.clear()
        known.by_readings[tuple(answer for _, _, answer in measured.reads)] = measured.cost
        return measured.cost
