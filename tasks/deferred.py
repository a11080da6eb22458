"""One-off work as a task: `await tasks.defer(function, *args, **kwargs)`.

Like App Engine's deferred library, minus pickle: the function travels as its
importable path (`module:qualname`) and the arguments as JSON, so a task can never
carry code. A worker runs only functions marked `@deferrable`, which keeps the
internal route from becoming "call any function in the codebase".

    @deferrable
    async def send_welcome(ctx: TaskContext, user_id: str) -> None: ...
"""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from tasks.errors import BadTask, NotDeferrable
from tasks.registry import Payload, task_handler

if TYPE_CHECKING:
    from tasks.context import TaskContext

DEFERRED_HANDLER = "deferred"
F = TypeVar("F", bound=Callable[..., Awaitable[None]])
_allowed: dict[str, Callable[..., Awaitable[None]]] = {}


def deferrable(function: F) -> F:
    """Allow `function` to be deferred; it must be an async module-level function."""
    _allowed[_path_of(function)] = function
    return function


def encode_call(
    function: Callable[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any]
) -> dict[str, Any]:
    path = _path_of(function)
    if _allowed.get(path) is not function:
        raise NotDeferrable(f"{path} is not marked @deferrable, so a worker would refuse it")
    call = {"function": path, "args": list(args), "kwargs": dict(kwargs)}
    try:
        json.dumps(call, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise BadTask(f"deferred arguments must be JSON: {error}") from error
    return call


@task_handler(DEFERRED_HANDLER)
async def run_deferred(payload: Payload, ctx: TaskContext) -> None:
    path = payload.get("function")
    args = payload.get("args", [])
    kwargs = payload.get("kwargs", {})
    if not isinstance(path, str) or not isinstance(args, list) or not isinstance(kwargs, dict):
        raise BadTask(f"not a deferred call: {dict(payload)!r}")
    await _resolve(path)(ctx, *args, **kwargs)


def _resolve(path: str) -> Callable[..., Awaitable[None]]:
    module_name = path.partition(":")[0]
    # Importing the module runs its @deferrable decorators; only then is the
    # allow-list complete for functions defined there.
    try:
        importlib.import_module(module_name)
    except ImportError as error:
        raise NotDeferrable(f"cannot import {module_name!r} for deferred {path}") from error
    function = _allowed.get(path)
    if function is None:
        raise NotDeferrable(f"{path} is not marked @deferrable")
    return function


def _path_of(function: Callable[..., Any]) -> str:
    name = getattr(function, "__qualname__", None)
    module = getattr(function, "__module__", None)
    if not inspect.isfunction(function) or not name or not module:
        raise NotDeferrable(f"only plain functions can be deferred, not {function!r}")
    if name == "<lambda>" or "<lambda>" in name:
        raise NotDeferrable("a lambda cannot be deferred: define a module-level function")
    if "<locals>" in name or "." in name:
        raise NotDeferrable(
            f"{module}.{name} is not a module-level function (a closure or a method); "
            "a worker could not import it"
        )
    if module == "__main__":
        raise NotDeferrable(f"{name} lives in __main__, which a worker cannot import")
    if not inspect.iscoroutinefunction(function):
        raise NotDeferrable(f"{module}.{name} must be an async function")
    return f"{module}:{name}"
