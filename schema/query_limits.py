"""The limits on one GraphQL document, checked before anything runs.

Checked in this order, each in time linear in the document:

    limit        refused as          when
    bytes        DOCUMENT_TOO_LARGE  before parsing
    tokens       DOCUMENT_TOO_LARGE  while parsing: graphql-core stops at the first
                                     token past the limit (comments count)
    operations   QUERY_TOO_COMPLEX   after parsing (schema/document_figures.py)
    fields         "                   "
    aliases        "                   "
    directives     "                   "
    depth          "                   "   fragments expanded, each measured once
    (graphql-core's validation rules)
    cost         QUERY_TOO_COMPLEX   with the request's variables (schema/query_cost.py)

A refusal is a GraphQL error whose extensions carry `rule`, `limit` and `measured`,
answered with HTTP 400 (graphql_media.py). A document that passes is
cached by its text, within a byte budget (schema/document_cache.py); one that is
refused is not. Parsing and validating a document not yet cached run in a worker
thread, so the event loop goes on serving other requests meanwhile.

The defaults (settings.QueryLimits) against what others ship and what this app's
own documents need (tests/utils/app_documents.py: Apollo-style screens, with
`__typename` everywhere and the largest pages the screens ask for):

    limit        default  graphql-armor  GitHub              the app's largest
    bytes        16 KiB   -              -                   1.1 KB
    tokens       2,000    1,000          -                   163 (GraphiQL's introspection 183)
    operations   10       -              -                   1
    fields       150      -              -                   49
    aliases      30       15             -                   4
    directives   50       50             -                   1
    depth        12       6              -                   8
    cost         10,000   5,000 (its     500,000 nodes,      3,258 (home feed of 50
                          own model)     pages of 1-100      photos, 3 comments each)

So each limit is at least 1.5 times the largest real need, most ten times.
graphql-armor's depth of 6 would refuse a Relay feed (viewer, feed, edges, node,
comments, nodes, author, username is 8). GitHub counts only nodes and runs on a
fleet; here a query of cost 7,851 (50 photos with 30 comments each, over SQLite)
takes about 0.5 s of one instance's CPU, so 10,000 is kept near 3 times the
app's largest screen rather than raised. The fields limit
bounds graphql-core's pairwise overlapping-fields check (a document of 150
duplicate fields validates in about 30 ms; of 400, 0.4 s).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from anyio import to_thread
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    parse,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from errors import BadRequest, DocumentTooLarge, QueryTooComplex
from schema.cost_cache import CostCache
from schema.document_cache import DocumentCache
from schema.document_figures import measure
from settings import QueryLimits


class QueryLimitsExtension(SchemaExtension):
    """Made per request; the cache is the schema's, shared by every request."""

    def __init__(
        self, limits: QueryLimits, cache: DocumentCache[DocumentNode], costs: CostCache
    ) -> None:
        super().__init__()
        self._limits = limits
        self._cache = cache
        self._costs = costs
        self._cache_key: tuple[str, object] | None = None
        self._cached = False

    async def on_parse(self) -> AsyncIterator[None]:
        context = self.execution_context
        query = context.query
        if query:  # strawberry itself refuses a request without one
            self._cache_key = (query, context.validation_rules)
            document = self._cache.get(self._cache_key)
            self._cached = document is not None
            if document is None:
                _check_bytes(query, self._limits)
                document = await to_thread.run_sync(parse_within_limits, query, self._limits)
            context.graphql_document = document
            # strawberry would run the first operation; the GraphQL spec says it is an error.
            # (Its public `operation_name` falls back to the first operation's name.)
            _require_operation_name(document, context._provided_operation_name)
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and self._cache_key is not None:
            errors: list[GraphQLError] = []
            if not self._cached:
                errors = await to_thread.run_sync(
                    validate_document, context.schema._schema, document, context.validation_rules
                )
            context.pre_execution_errors = errors
            if not errors:
                cost = self._costs.cost(
                    context.schema._schema,
                    self._cache_key[0],
                    document,
                    context.operation_name,
                    context.variables,
                )
                _check(cost or 0, self._limits.max_cost, "cost")
                if not self._cached:
                    self._cache.put(self._cache_key, document, size=len(self._cache_key[0]))
        yield


def parse_within_limits(query: str, limits: QueryLimits) -> DocumentNode:
    try:
        document = parse(query, max_tokens=limits.max_tokens)
    except GraphQLSyntaxError as error:
        if error.message.endswith(f"more than {limits.max_tokens} tokens. Parsing aborted."):
            raise DocumentTooLarge(
                f"The query has more than {limits.max_tokens} tokens.",
                rule="tokens",
                limit=limits.max_tokens,
                measured=limits.max_tokens + 1,  # parsing stops there
            ) from None
        raise
    figures = measure(document)
    _check(figures.operations, limits.max_operations, "operations")
    _check(figures.fields, limits.max_fields, "fields")
    _check(figures.aliases, limits.max_aliases, "aliases")
    _check(figures.directives, limits.max_directives, "directives")
    _check(figures.depth, limits.max_depth, "depth")
    return document


def _require_operation_name(document: DocumentNode, operation_name: str | None) -> None:
    operations = sum(isinstance(node, OperationDefinitionNode) for node in document.definitions)
    if operations > 1 and operation_name is None:
        raise BadRequest("Must provide operation name if query contains multiple operations.")


def _check_bytes(query: str, limits: QueryLimits) -> None:
    # UTF-8, as sent; a lone surrogate (which JSON can carry) counts rather than raises.
    size = len(query.encode("utf-8", "surrogatepass"))
    if size > limits.max_bytes:
        raise DocumentTooLarge(
            f"The query is {size} bytes; at most {limits.max_bytes} are allowed.",
            rule="bytes",
            limit=limits.max_bytes,
            measured=size,
        )


_WHAT = {
    "operations": "operations in one document",
    "fields": "fields and fragment spreads",
    "aliases": "aliases",
    "directives": "directives",
    "depth": "fields nested in one another",
    "cost": "fields resolved (each counted once per item of the pages above it)",
}


def _check(measured: int, limit: int, rule: str) -> None:
    if measured > limit:
        raise QueryTooComplex(
            f"The query asks for {measured} {_WHAT[rule]}; at most {limit} are allowed.",
            rule=rule,
            limit=limit,
            measured=measured,
        )
