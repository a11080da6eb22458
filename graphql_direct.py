"""The direct path: a known query from the GraphQL route straight to its plan.

The apps send the same few queries over and over. The first time one arrives it
takes the normal path, strawberry's view and `Schema.execute`: the document is
parsed, held to the query limits and validated (and cached, schema/__init__.py),
its operation compiled into a plan (schema/compiled/). Once it has run, the route
`learn`s it here. From then on its requests skip strawberry's view and its
extension pipeline, which cost about a quarter of such a request: the body is
read, the persisted query resolved (persisted_queries.py), the cost checked
with the request's variables, and graphql-core's executor, which runs the
compiled plan, executes the cached document. The route writes the answer with
the same `process_result` and `graphql_response` (graphql_media.py) as on the
normal path, so masking, status codes, media types and cache headers are made
in one place.

A request is answered here only when it is all of:
- GET with a `query` or `extensions` parameter, or POST of `application/json`;
- one JSON object whose `query`, `variables`, `extensions` and `operationName`
  have the types strawberry accepts;
- a document (sent, or resolved from its hash) and operation name that were
  learned: a query (never a mutation or subscription) without introspection
  (`__schema`, `__type`), that ran from a compiled plan, and whose document is
  still in the schema's parsed-document cache (it passed the limits and
  validation);
- not a registration of a persisted query (its first run with its hash);
- within the cost limit with its variables.
Anything else goes the normal way, which answers it (and its errors) as before,
without resolving a persisted query twice (`Exchange.resolved`). The schema's
strawberry extensions are what the direct path reproduces (the validation rules
and the query limits): a schema with any other extension gets no direct path,
nor does the admin route (schema/admin.py: a handful of calls).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from inspect import isawaitable
from typing import Any, cast

from cross_web import HTTPException
from graphql import DocumentNode, GraphQLError, OperationType
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.execution.executor import UNEXPECTED_MULTIPLE_PAYLOADS
from graphql.utilities import get_operation_ast
from starlette.requests import Request
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.extensions import AddValidationRules
from strawberry.http.parse_content_type import parse_content_type
from strawberry.types import ExecutionResult

from graphql_context import Contexts
from graphql_request import decode_request, leading_operation_name
from http_caching import PRIVATE, get_cache_control, root_fields
from observability import name_operation
from persisted_queries import PersistedQueries, Resolved
from schema import TimelineSchema, compiled
from schema.compiled import prepared
from schema.document_cache import DocumentCache
from schema.query_limits import QueryLimitsExtension

# Entries are a name and a header value; the bytes bound is the documents' texts.
CACHED_OPERATIONS = 512
CACHED_OPERATION_BYTES = 1024 * 1024
REPRODUCED_EXTENSIONS = (AddValidationRules, QueryLimitsExtension)
_INTROSPECTION = frozenset({"__schema", "__type"})


@dataclass
class Exchange:
    """What the route learns about one request on its way, on either path."""

    media_type: str
    cache_control: str = PRIVATE
    resolved: Resolved | None = None  # the persisted query, once resolved


@dataclass(frozen=True)
class Known:
    operation_name: str | None  # as strawberry names it: the document's only operation's
    anonymous_cache_control: str  # for a GET without an Authorization header


# Learned as never to go direct (a mutation, introspection), so not looked at again.
NEVER_DIRECT = Known(None, PRIVATE)


@dataclass(frozen=True)
class Sent:
    query: str | None
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None


class Stats:
    """Requests `answered` on the direct path and `passed` on to the normal one."""

    def __init__(self) -> None:
        self.answered = 0
        self.passed = 0


stats = Stats()


class DirectPath:
    def __init__(
        self,
        schema: TimelineSchema,
        persisted: PersistedQueries,
        contexts: Contexts,
        *,
        max_cost: int,
    ) -> None:
        self._schema = schema
        self._persisted = persisted
        self._contexts = contexts
        self._max_cost = max_cost
        self._known: DocumentCache[Known] = DocumentCache(CACHED_OPERATIONS, CACHED_OPERATION_BYTES)
        # What graphql-core's Executor.build found in each (schema/compiled/prepared.py).
        self._prepared: DocumentCache[prepared.Prepared] = DocumentCache(
            CACHED_OPERATIONS, CACHED_OPERATION_BYTES
        )

    @staticmethod
    def reproduces(schema: TimelineSchema) -> bool:
        """Whether the schema's extensions are all ones the direct path reproduces,
        and it has no @defer or @stream (which graphql-core's `execute` refuses)."""
        incremental = any(schema._schema.get_directive(name) for name in ("defer", "stream"))
        return not incremental and all(
            isinstance(e, REPRODUCED_EXTENSIONS) for e in schema.get_extensions()
        )

    def learn(self, query: str | None, operation_name: str | None) -> None:
        """After the normal path ran `query`: remember it if it may go direct."""
        key = (query, operation_name)
        if query is None or self._known.get(key) is not None:
            return
        document = self._schema.documents.get((query, self._schema.validation_rules))
        operation = None if document is None else get_operation_ast(document, operation_name)
        if operation is None:
            return  # refused before it ran (or since forgotten): it may pass next time
        fields = root_fields(query, operation_name) or _INTROSPECTION
        if operation.operation is not OperationType.QUERY or fields & _INTROSPECTION:
            self._known.put(key, NEVER_DIRECT, size=len(query))  # decided once
            return
        own_name = operation.name.value if operation.name else None
        if compiled.has_plans(self._schema, query, own_name):
            cache_control = get_cache_control(query, operation_name, signed_in=False)
            self._known.put(key, Known(operation_name or own_name, cache_control), size=len(query))

    async def run(self, request: Request, exchange: Exchange) -> ExecutionResult | None:
        """The result of a request this path answers, or None for the normal path."""
        result = await self._run(request, exchange)
        if result is None:
            stats.passed += 1
        else:
            stats.answered += 1
        return result

    async def _run(self, request: Request, exchange: Exchange) -> ExecutionResult | None:
        sent = await _read(request)
        if sent is None:
            return None
        # Where the normal path resolves it too: a refusal raises the same way.
        resolved = exchange.resolved = await self._persisted.resolve(sent.query, sent.extensions)
        query = resolved.query
        known = None if query is None else self._known.get((query, sent.operation_name))
        if query is None or known is None or known is NEVER_DIRECT or resolved.register_as:
            return None  # (NEVER_DIRECT by identity: a Known equal to it may go direct)
        document = self._schema.documents.get((query, self._schema.validation_rules))
        if document is None or not self._within_cost(query, document, known, sent):
            return None
        name_operation(sent.operation_name or leading_operation_name(query))
        context = self._contexts(request.state.viewer)
        result = await self._execute(query, document, known, sent, context)
        if request.method == "GET" and not result.errors:
            signed_in = "authorization" in request.headers
            exchange.cache_control = PRIVATE if signed_in else known.anonymous_cache_control
        return result

    def _within_cost(self, query: str, document: DocumentNode, known: Known, sent: Sent) -> bool:
        # Over the limit, or a cost that cannot be measured: the normal path says why.
        try:
            cost = self._schema.costs.cost(
                self._schema._schema, query, document, known.operation_name, sent.variables
            )
        except Exception:
            return False
        return (cost or 0) <= self._max_cost

    async def _execute(
        self, query: str, document: DocumentNode, known: Known, sent: Sent, context: object
    ) -> ExecutionResult:
        # As Schema.execute calls graphql-core's `execute` (no middleware: no
        # extension resolves), less its two wrappers and their coroutine: what
        # `execute` does itself is refuse a schema with @defer or @stream (the
        # direct path is not made for one, `reproduces`) and an answer in several
        # payloads (which only those directives make).
        schema = self._schema
        is_awaitable = cast(Any, optimized_is_awaitable)  # a TypeGuard in all but name
        try:
            found = self._prepared.get((query, known.operation_name))
            if found is not None and found.document is document:
                executor = prepared.build(
                    schema.execution_context_class,
                    schema._schema,
                    found,
                    context,
                    sent.variables,
                    is_awaitable,
                    operation_extensions=sent.extensions,
                )
            else:  # the first time, or the document was parsed again since
                executor = schema.execution_context_class.build(
                    schema._schema,
                    document,
                    None,
                    context,
                    sent.variables,
                    known.operation_name,
                    is_awaitable=is_awaitable,
                    operation_extensions=sent.extensions,
                )
                if not isinstance(executor, list):
                    ready = prepared.prepare(schema._schema, document, executor)
                    self._prepared.put((query, known.operation_name), ready, size=len(query))
            outcome: object
            if isinstance(executor, list):  # the variables did not coerce
                outcome = GraphQLExecutionResult(None, errors=executor)
            else:
                outcome = executor.execute_operation()
                if isawaitable(outcome):
                    outcome = await outcome
            if not isinstance(outcome, GraphQLExecutionResult):
                raise GraphQLError(UNEXPECTED_MULTIPLE_PAYLOADS)
            executed = outcome
        except Exception as error:  # as Schema.execute: an error, not a 500
            errors = [error if isinstance(error, GraphQLError) else _unexpected(error)]
            schema._process_errors(errors)
            return ExecutionResult(data=None, errors=errors)
        if executed.errors:
            schema._process_errors(executed.errors)
        return ExecutionResult(data=executed.data, errors=executed.errors)


async def _read(request: Request) -> Sent | None:
    """The operation as strawberry's view would read it, or None for anything it
    would refuse or read another way (the normal path says what is wrong)."""
    if request.method == "POST":
        if not _is_json(request.headers.get("content-type") or ""):
            return None
        raw: Any = await request.body()  # kept by the request for the normal path
    elif request.method == "GET":
        params = dict(request.query_params)
        if params.get("query") is None and params.get("extensions") is None:
            return None  # GraphiQL's page, or a request without a query
        raw = None
    else:
        return None
    try:
        data = decode_request(raw) if raw is not None else _from_params(params)
    except HTTPException:
        return None
    query, variables = data.get("query"), data.get("variables")
    name, extensions = data.get("operationName"), data.get("extensions")
    if (
        not isinstance(query, str | None)
        or not isinstance(variables, dict | None)
        or not isinstance(name, str | None)
        or not isinstance(extensions, dict | None)
    ):
        return None
    return Sent(query, variables, name, extensions)


@functools.lru_cache(maxsize=64)  # clients send a few spellings; parsing one is not cheap
def _is_json(content_type: str) -> bool:
    return parse_content_type(content_type)[0] == "application/json"


def _from_params(params: dict[str, str]) -> dict[str, Any]:
    # As strawberry's parse_query_params, with the route's JSON decoding.
    data: dict[str, Any] = dict(params)
    for name in ("variables", "extensions"):
        if data.get(name):
            data[name] = decode_request(data[name])
    return data


def _unexpected(error: Exception) -> GraphQLError:
    return GraphQLError(str(error), original_error=error)
