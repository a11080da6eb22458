"""Run a Plan for one request, inside graphql-core's Executor.

This is graphql-core's own algorithm (execute_fields, execute_field,
complete_value, the list and awaitable completions), step for step and in the
same order, so that the same errors are raised at the same paths and null
propagates to the same nullable parent; what it no longer does per field is
what the plan already knows: no field lookup, no GraphQLResolveInfo, no
strawberry wrapper, Info or argument conversion (resolvers are called
directly, with one Info a field a request), no collection of sub-fields. An
object's fields are written by its selection's generated function
(completers.py), which completes the usual values inline (leaves without
building their path) and calls `resolved` here for the rest; a list of objects
hands each item of the expected class straight to that function. Errors are
recorded through the executor (`handle_field_error`, `collected_errors`), and a
value the plan did not expect is completed by the executor itself.

A field the request has in hand (an attribute, a `Maybe` the loaders answer at
once) is completed synchronously; awaitables are gathered once per object and
once per list, as graphql-core does, and the request's loaders batch the reads
of a level into one get.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLOutputType, Undefined
from graphql.execution.executor import Executor, collect_iterator_awaitables
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, gather_with_cancel, is_iterable
from strawberry.types.cast import get_strawberry_type_cast
from strawberry.types.info import Info

from resolvers.context import RequestContext
from resolvers.field_keys import Key
from resolvers.loaders import Loaders
from schema.compiled.arguments import python_arguments
from schema.compiled.plan import Completion, FieldPlan, Kind

_new_path = tuple.__new__  # Path(...) without its Python-level __new__


class RequestInfo:
    """What a resolver called from a plan sees behind `info`: the request's
    context. The app's resolvers read nothing else (a resolver that did would
    fail the differential test, tests/test_compiled_plans.py)."""

    __slots__ = ("context",)

    def __init__(self, context: Any) -> None:
        self.context = context


class Run:
    def __init__(self, executor: Executor[Any], schema: strawberry.Schema) -> None:
        self.executor = executor
        self.is_awaitable = executor.is_awaitable
        self.request_info = RequestInfo(executor.context_value)
        self.infos: dict[FieldPlan, Info[Any, Any]] = {}
        self.kwargs: dict[FieldPlan, dict[str, Any]] = {}
        self.schema = schema

    def execute_fields(
        self, completion: Completion, source: Any, path: Path | None
    ) -> dict[str, Any] | Awaitable[dict[str, Any]]:
        complete = completion.complete
        assert complete is not None
        return complete(self, source, path)

    # What the functions of completers.py call for what they do not complete inline.

    def resolved(self, plan: FieldPlan, result: Any, parent: Path | None, type_name: str) -> Any:
        """graphql-core's execute_field, from the field's value on."""
        completion = plan.completion
        assert completion is not None
        path = Path(parent, plan.key, type_name)
        try:
            if self.is_awaitable(result):
                return self.complete_awaitable_value(completion, plan, path, result)
            leaf = plan.leaf
            if leaf is not None and result is not None and not isinstance(result, Exception):
                coerced = leaf.coerce_output_value(result)
                if coerced is not None and coerced is not Undefined:
                    return coerced
            completed = self.complete_value(completion, plan, path, result)
            if self.is_awaitable(completed):
                return self.await_completed(completed, completion.return_type, plan, path)
            return completed
        except Exception as raw_error:
            self.executor.handle_field_error(raw_error, completion.return_type, plan.details, path)
            return None

    def field_error(
        self, plan: FieldPlan, raw_error: Exception, parent: Path | None, type_name: str
    ) -> None:
        """A field whose resolver (or attribute) raised: null, or raised again located."""
        return self.located(plan, raw_error, Path(parent, plan.key, type_name))

    def located(self, plan: FieldPlan, raw_error: Exception, path: Path) -> None:
        assert plan.completion is not None
        self.executor.handle_field_error(raw_error, plan.completion.return_type, plan.details, path)

    def await_field(self, plan: FieldPlan, completed: Awaitable[Any], path: Path) -> Any:
        assert plan.completion is not None
        return self.await_completed(completed, plan.completion.return_type, plan, path)

    def settle(self, results: dict[str, Any], awaiting: list[str]) -> None:
        """Pending fields of an object abandoned for a sibling's error."""
        self.executor.settle_in_background([results[key] for key in awaiting])

    @staticmethod
    def gather_fields(results: dict[str, Any], keys: list[str]) -> Awaitable[dict[str, Any]]:
        return _gather_fields(results, keys)

    def call(self, plan: FieldPlan, source: Any) -> Any:
        kwargs = self.kwargs.get(plan)
        if kwargs is None:
            kwargs = self.arguments(plan) if plan.arguments_dynamic else plan.kwargs
            if plan.info_name is not None:
                kwargs = {**kwargs, plan.info_name: self.info(plan)}
            # The same for every object of the request (a resolver gets its own copy).
            self.kwargs[plan] = kwargs
        if plan.source_names:
            kwargs = {**kwargs, **dict.fromkeys(plan.source_names, source)}
        resolver = plan.resolver
        assert resolver is not None
        return resolver(source, **kwargs) if plan.passes_self else resolver(**kwargs)

    def arguments(self, plan: FieldPlan) -> dict[str, Any]:
        assert plan.field_def is not None
        assert plan.strawberry_field is not None
        executor = self.executor
        coerced = get_argument_values(
            plan.field_def,
            plan.nodes[0],
            executor.variable_values,
            None,
            executor.hide_suggestions,
        )
        if plan.renames is not None:
            return {python: coerced[name] for name, python in plan.renames if name in coerced}
        return python_arguments(self.schema, coerced, plan.strawberry_field)

    def info(self, plan: FieldPlan) -> Info[Any, Any]:
        info = self.infos.get(plan)
        if info is None:
            assert plan.strawberry_field is not None
            info = Info(_raw_info=self.request_info, _field=plan.strawberry_field)  # type: ignore[arg-type]
            self.infos[plan] = info
        return info

    def complete_value(
        self, completion: Completion, plan: FieldPlan, path: Path, result: Any
    ) -> Any:
        if isinstance(result, Exception):
            raise result
        kind = completion.kind
        if kind is Kind.NON_NULL:
            assert completion.inner is not None
            completed = self.complete_value(completion.inner, plan, path, result)
            if completed is None:
                raise TypeError(
                    "Cannot return null for non-nullable field"
                    f" {plan.parent_type.name}.{plan.name}."
                )
            return completed
        if result is None or result is Undefined:
            return None
        if kind is Kind.LEAF:
            assert completion.leaf is not None
            return Executor.complete_leaf_value(completion.leaf, result)
        if kind is Kind.LIST:
            return self.complete_list_value(completion, plan, path, result)
        if kind is Kind.OBJECT:
            if completion.checked and (
                type(result) is not completion.origin
                or get_strawberry_type_cast(result) is not None
            ):
                return self.delegate(completion, plan, path, result)
            assert completion.complete is not None
            return completion.complete(self, result, path)
        member = completion.by_class.get(type(result))
        if member is None or get_strawberry_type_cast(result) is not None:
            return self.delegate(completion, plan, path, result)
        assert member.complete is not None
        return member.complete(self, result, path)

    def complete_list_value(
        self, completion: Completion, plan: FieldPlan, path: Path, result: Any
    ) -> Any:
        executor = self.executor
        if executor.is_async_iterable(result):
            return self.delegate(completion, plan, path, result)
        if not is_iterable(result):
            raise GraphQLError(
                "Expected Iterable, but did not find one for field"
                f" '{plan.parent_type.name}.{plan.name}'."
            )
        prefetch = completion.prefetch
        context = executor.context_value
        if prefetch is not None and isinstance(context, RequestContext):
            items = list(result)
            missing = prefetch.missing(context, items)
            if missing:
                return self.prefetched_list_value(
                    completion, plan, path, items, missing, context.loaders
                )
            result = items
        return self.complete_items(completion, plan, path, result)

    async def prefetched_list_value(
        self,
        completion: Completion,
        plan: FieldPlan,
        path: Path,
        items: list[Any],
        missing: list[Key],
        loaders: Loaders,
    ) -> Any:
        """The list completed once its objects' fields have their keys (prefetch.py)."""
        with contextlib.suppress(Exception):  # the fields read again and fail as usual
            await loaders.many(missing)
        completed = self.complete_items(completion, plan, path, items)
        if self.is_awaitable(completed):
            return await completed
        return completed

    def complete_items(
        self, completion: Completion, plan: FieldPlan, path: Path, result: Any
    ) -> Any:
        executor = self.executor
        item_completion = completion.inner
        assert item_completion is not None
        item_type = item_completion.return_type
        # Objects of the class the plan expects go straight to their selection's
        # function (completers.py); anything else item by item as graphql-core.
        objects = (
            item_completion.inner if item_completion.kind is Kind.NON_NULL else item_completion
        )
        assert objects is not None
        complete = objects.complete if objects.kind is Kind.OBJECT else None
        classes, checked = objects.classes, objects.checked
        is_awaitable = self.is_awaitable
        completed_results: list[Any] = []
        awaitable_indices: list[int] = []
        iterator = iter(result)
        index = 0
        try:
            for item in iterator:
                item_path = _new_path(Path, (path, index, None))
                if (
                    complete is not None
                    and type(item) in classes
                    and (not checked or get_strawberry_type_cast(item) is None)
                ):
                    try:
                        completed = complete(self, item, item_path)
                        if not isinstance(completed, dict):
                            completed = self.await_completed(completed, item_type, plan, item_path)
                            awaitable_indices.append(index)
                    except Exception as raw_error:
                        executor.handle_field_error(raw_error, item_type, plan.details, item_path)
                        completed = None
                    completed_results.append(completed)
                elif is_awaitable(item):
                    completed_results.append(
                        self.complete_awaitable_value(item_completion, plan, item_path, item)
                    )
                    awaitable_indices.append(index)
                else:
                    try:
                        completed = self.complete_value(item_completion, plan, item_path, item)
                        if is_awaitable(completed):
                            completed = self.await_completed(completed, item_type, plan, item_path)
                            awaitable_indices.append(index)
                        completed_results.append(completed)
                    except Exception as raw_error:
                        executor.handle_field_error(raw_error, item_type, plan.details, item_path)
                        completed_results.append(None)
                index += 1
        except Exception:
            pending = [completed_results[i] for i in awaitable_indices]
            pending.extend(collect_iterator_awaitables(iterator, is_awaitable))
            if pending:
                executor.settle_in_background(pending)
            raise
        if not awaitable_indices:
            return completed_results
        return _gather_items(completed_results, awaitable_indices)

    async def complete_awaitable_value(
        self, completion: Completion, plan: FieldPlan, path: Path, result: Any
    ) -> Any:
        try:
            resolved = await result
            completed = self.complete_value(completion, plan, path, resolved)
            if self.is_awaitable(completed):
                completed = await completed
        except Exception as raw_error:
            self.executor.handle_field_error(raw_error, completion.return_type, plan.details, path)
            completed = None
        return completed

    async def await_completed(
        self,
        completed: Awaitable[Any],
        return_type: GraphQLOutputType,
        plan: FieldPlan,
        path: Path,
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.executor.handle_field_error(raw_error, return_type, plan.details, path)
            return None

    def delegate(self, completion: Completion, plan: FieldPlan, path: Path, result: Any) -> Any:
        """graphql-core's completion of a value the plan did not expect."""
        executor = self.executor
        assert plan.field_def is not None
        info = executor.build_resolve_info(plan.field_def, plan.nodes, plan.parent_type, path)
        return executor.complete_value(
            completion.return_type, plan.details, info, path, result, None
        )


async def _gather_fields(results: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    if len(keys) == 1:
        key = keys[0]
        results[key] = await results[key]
    else:
        awaited = await gather_with_cancel(*(results[key] for key in keys))
        results.update(zip(keys, awaited, strict=True))
    return results


async def _gather_items(results: list[Any], indices: list[int]) -> list[Any]:
    if len(indices) == 1:
        index = indices[0]
        results[index] = await results[index]
    else:
        awaited = await gather_with_cancel(*(results[index] for index in indices))
        for index, value in zip(indices, awaited, strict=True):
            results[index] = value
    return results
