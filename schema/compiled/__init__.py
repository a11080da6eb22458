"""Compiled plans for known operations (issue 13).

The apps send the same few queries over and over. Each is compiled once, the
first time it runs with given `@skip`/`@include` values, into a Plan
(compiler.py) of the fields to write and how to get and complete each one; later
requests run the plan (runner.py) instead of graphql-core's generic per-field
machinery. Everything before execution is unchanged: strawberry's extensions,
the parse and validation cache, the query limits and cost, variable coercion.

The hook is the executor's `execute_operation`: when a plan exists for the
document it runs, otherwise (an operation the compiler refuses, decided once at
compile time and remembered) graphql-core executes it as before. `stats` counts
both, and each refusal is logged at debug with its reason.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable
from typing import Any, ClassVar

import strawberry
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, OperationDefinitionNode
from graphql.pyutils import AwaitableOrValue

from schema.compiled.compiler import compile_plan, condition_variables
from schema.compiled.plan import Plan
from schema.compiled.runner import Run
from schema.compiled.unsupported import Unsupported
from schema.document_cache import DocumentCache
from schema.plain_fields import PlainFieldsExecution

log = logging.getLogger("timeline.compiled")

# As many operations as documents are cached (schema/__init__.py). A plan takes
# about 130 times its document's text (an 892-byte document: 115 KB, most of it
# the code objects of its generated functions; tracemalloc), and an operation
# keeps a plan per set of @skip/@include values, so the cache weighs each
# operation by that estimate and CACHED_PLAN_BYTES bounds the plans' memory.
CACHED_PLANS = 512
PLAN_BYTES_PER_TEXT_BYTE = 130
CACHED_PLAN_BYTES = 32 * 1024 * 1024

# (the document's text, the operation's name)
PlanKey = tuple[str, str | None]


class Stats:
    """How requests ran: `compiled` plans built, `planned` requests run by a plan,
    `fallback` reasons (each compile-time refusal) and `generic` requests run by
    graphql-core."""

    def __init__(self) -> None:
        self.compiled = 0
        self.planned = 0
        self.generic = 0
        self.fallback: Counter[str] = Counter()


stats = Stats()


class Refused:
    """A cached decision not to compile, with its reason."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class OperationPlans:
    """An operation's plans, one for each set of values of the variables its
    `@skip` and `@include` read (`conditions`): at most two a variable, and in
    practice one, since an app sends the same flags."""

    __slots__ = ("by_conditions", "conditions")

    def __init__(self, conditions: tuple[str, ...]) -> None:
        self.conditions = conditions
        self.by_conditions: dict[tuple[object, ...], Plan | Refused] = {}


class CompiledExecution(PlainFieldsExecution):
    """graphql-core's executor, running a compiled plan when there is one (and
    plain fields completed in one step when there is not)."""

    strawberry_schema: ClassVar[strawberry.Schema]
    plans: ClassVar[DocumentCache[OperationPlans | Refused]]

    def execute_operation(self, serially: bool | None = None) -> AwaitableOrValue[Any]:
        outcome = self._execute_operation(serially)
        if self.is_awaitable(outcome):
            return self._released_when_done(outcome)
        return self._released(outcome)

    async def _released_when_done(self, outcome: Awaitable[Any]) -> Any:
        return self._released(await outcome)

    def _released(self, outcome: Any) -> Any:
        """graphql-core's executor keeps two bound methods of itself
        (`async_helpers`): a cycle that holds the request's context, loaders,
        futures and what they read until a collection of the oldest generation
        frees it. Once the operation has its one result, nothing runs on this
        executor again (a resolve info still alive keeps the helpers itself), so
        dropping the attribute lets the request's objects go by reference counting
        when the request does, on every path (direct, strawberry's view, multipart).
        Incremental results (@defer, @stream) keep executing: their executor stays."""
        if isinstance(outcome, GraphQLExecutionResult):
            self.__dict__.pop("async_helpers", None)
        return outcome

    def _execute_operation(self, serially: bool | None) -> AwaitableOrValue[Any]:
        plan = None if serially or self.abort_signal is not None else self._plan()
        if plan is None:
            stats.generic += 1
            return super().execute_operation(serially)
        stats.planned += 1
        run = Run(self, self.strawberry_schema)
        try:
            data = run.execute_fields(plan.root, self.root_value, None)
        except Exception as error:
            return self._failed(error)
        if isinstance(data, dict):
            return self.finish(self.build_response(data))
        return self._await_data(data)

    async def _await_data(self, data: Any) -> Any:
        try:
            return self.build_response(await data)
        except Exception as error:
            return self._failed(error)

    def _failed(self, error: Exception) -> Any:
        if not isinstance(error, GraphQLError):  # as graphql-core: only located errors are data
            raise error
        self.collected_errors.add(error, None)
        return self.finish(self.build_response(None))

    def _plan(self) -> Plan | None:
        operation: OperationDefinitionNode = self.operation
        if operation.loc is None or (
            self.middleware_manager and self.middleware_manager.middlewares
        ):
            return None
        key = (operation.loc.source.body, operation.name.value if operation.name else None)
        plans = self.plans.get(key)
        if plans is None:
            plans = self._operation_plans(key)
        if isinstance(plans, Refused):
            return None
        coerced = self.variable_values.coerced
        values = tuple(coerced.get(name) for name in plans.conditions)
        found = plans.by_conditions.get(values)
        if found is None:
            found = plans.by_conditions[values] = self._compile(key)
            self.plans.put(key, plans, size=_estimated_bytes(key, plans))
        return found if isinstance(found, Plan) else None

    def _operation_plans(self, key: PlanKey) -> OperationPlans | Refused:
        found: OperationPlans | Refused
        try:
            found = OperationPlans(condition_variables(self))
        except Unsupported as refusal:
            found = self._refused(key, refusal)
        self.plans.put(key, found, size=len(key[0]))  # no plan compiled yet
        return found

    def _compile(self, key: PlanKey) -> Plan | Refused:
        try:
            plan = compile_plan(self, self.strawberry_schema)
        except Unsupported as refusal:
            return self._refused(key, refusal)
        stats.compiled += 1
        return plan

    def _refused(self, key: PlanKey, refusal: Unsupported) -> Refused:
        reason = str(refusal)
        stats.fallback[reason] += 1
        log.debug("operation %s runs on graphql-core's executor: %s", key[1], reason)
        return Refused(reason)


def has_plans(schema: strawberry.Schema, query: str, operation_name: str | None) -> bool:
    """Whether the operation (named as in its document) has run from compiled
    plans: it was compiled, not refused, for at least one set of `@skip` and
    `@include` values."""
    execution: type[object] = schema.execution_context_class
    if not issubclass(execution, CompiledExecution):
        return False
    plans = execution.plans.get((query, operation_name))
    return isinstance(plans, OperationPlans) and any(
        isinstance(plan, Plan) for plan in plans.by_conditions.values()
    )


def _estimated_bytes(key: PlanKey, plans: OperationPlans) -> int:
    compiled = sum(isinstance(plan, Plan) for plan in plans.by_conditions.values())
    return len(key[0]) * (1 + PLAN_BYTES_PER_TEXT_BYTE * compiled)


def enable(schema: strawberry.Schema) -> None:
    """Run `schema`'s queries from compiled plans, falling back to the executor
    it has (plain_fields.enable first)."""
    schema.execution_context_class = type(
        "CompiledExecution",
        (CompiledExecution, schema.execution_context_class),
        {
            "strawberry_schema": schema,
            "plans": DocumentCache(CACHED_PLANS, CACHED_PLAN_BYTES),
        },
    )


__all__ = ["CompiledExecution", "enable", "has_plans", "stats"]
