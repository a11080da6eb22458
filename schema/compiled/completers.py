"""One Python function per selection set of a plan, written out and exec'd once
when the plan is built (the way graphql-jit compiles graphql-js operations).

A page of 20 photos is ~200 fields; run by a loop over the plan's fields, each
field costs the loop's dispatch on how to read it and how to complete it, an
awaitable check, a call into its scalar's serializer and, for an object, the
generic completion's recursion. All of that is known once the operation is: the
function for a selection set reads each field straight (`source.caption`, or the
resolver through `run.call`), and completes the values it expects with the
cheapest code for the field's type, inline:

- a built-in scalar: the value itself when its type is one the scalar returns
  unchanged (`str` for String and ID, an `int` in range for Int, ...), a
  DateTime through its serializer;
- an object of the class the plan expects: that selection's own function, with
  the field's path;
- a null, in a nullable field.

Anything else (a null in a non-null field, an exception, an awaitable, a list,
another class, a value a serializer would convert or refuse) takes
`Run.resolved`, graphql-core's completion as runner.py runs it, so errors, paths
and null propagation stay exactly graphql-core's. `source_of(completion)` is the
code written for a selection; for `caption` it reads:

        try:
            value = source.caption
        except Exception as error:
            results['caption'] = run.field_error(F1, error, path, 'Photo')
        else:
            if type(value) is str:
                results['caption'] = value
            else:
                value = run.resolved(F1, value, path, 'Photo')
                results['caption'] = value
                if run.is_awaitable(value):
                    awaiting.append('caption')
"""

from __future__ import annotations

import keyword
from datetime import datetime
from math import isfinite
from typing import Any, Generic

from graphql import (
    GraphQLBoolean,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLString,
)
from graphql.pyutils import Path
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE

from schema.compiled.plan import Completion, FieldPlan, Kind, ObjectCompleter, Source
from schema.date_time import serialize_date_time

# The check that a value needs no conversion, and the value written, by scalar.
_IN_RANGE_INT = "type(value) is int and -2147483648 <= value <= 2147483647"
_LEAVES: dict[GraphQLLeafType, tuple[str, str]] = {
    GraphQLString: ("type(value) is str", "value"),
    GraphQLID: ("type(value) is str", "value"),
    GraphQLInt: (_IN_RANGE_INT, "value"),
    GraphQLBoolean: ("type(value) is bool", "value"),
    GraphQLFloat: ("type(value) is float and isfinite(value)", "value"),
}

_GLOBALS: dict[str, Any] = {
    "Path": Path,
    "new_path": tuple.__new__,  # Path(...) without its Python-level __new__
    "datetime": datetime,
    "isfinite": isfinite,
}


def object_completer(completion: Completion) -> ObjectCompleter:
    """The function that writes `completion`'s fields for one object:
    `complete(run, source, path) -> dict | Awaitable[dict]`."""
    source = source_of(completion)
    namespace = dict(_GLOBALS, **_constants(completion))
    type_name = completion.object_type.name if completion.object_type else "?"
    exec(compile(source, f"<plan of {type_name}>", "exec"), namespace)
    complete: ObjectCompleter = namespace["complete"]
    return complete


def source_of(completion: Completion) -> str:
    assert completion.object_type is not None
    type_name = completion.object_type.name
    lines = [
        "def complete(run, source, path):",
        "    results = {}",
        "    awaiting = []",
        "    try:",
    ]
    for index, field in enumerate(completion.fields):
        lines += _field(index, field, type_name)
    if not completion.fields:  # a type condition that did not apply
        lines.append("        pass")
    lines += [
        "    except Exception:",
        "        if awaiting:",
        "            run.settle(results, awaiting)",
        "        raise",
        "    if awaiting:",
        "        return run.gather_fields(results, awaiting)",
        "    return results",
    ]
    return "\n".join(lines) + "\n"


def _constants(completion: Completion) -> dict[str, Any]:
    """What the generated code names: each field's plan, its child's function and
    class, its scalar's serializer."""
    found: dict[str, Any] = {}
    for index, field in enumerate(completion.fields):
        found[f"F{index}"] = field
        child = _object_child(field)
        if child is not None:
            found[f"C{index}"] = child.complete
            found[f"CLS{index}"] = child.classes
        if field.leaf is not None:
            found[f"S{index}"] = field.leaf.coerce_output_value
    return found


def _field(index: int, field: FieldPlan, type_name: str) -> list[str]:
    key = repr(field.key)
    if field.source is Source.TYPENAME:
        return [f"        results[{key}] = {type_name!r}"]
    if field.source is Source.ATTRIBUTE and _plain_name(field.attribute):
        read = f"source.{field.attribute}"
    elif field.source is Source.ATTRIBUTE:
        read = f"getattr(source, F{index}.attribute)"
    else:
        read = f"run.call(F{index}, source)"
    where = f"F{index}, value, path, {type_name!r}"
    lines = ["        try:"]
    known = field.known_in
    if known is not None and all(_plain_name(name) for name in known):
        holder, attribute = known  # what the resolver would return: read, not called
        lines.append(f"            held = source.{holder}")
        read = f"held.{attribute} if held is not None else {read}"
    lines += [
        f"            value = {read}",
        "        except Exception as error:",
        f"            results[{key}] = run.field_error(F{index}, error, path, {type_name!r})",
        "        else:",
    ]
    fast = _fast(index, field, key, type_name)
    if fast and field.completion is not None and field.completion.kind is not Kind.NON_NULL:
        fast += ["elif value is None:", f"    results[{key}] = None"]
    indent = "            "
    if fast:
        lines += [f"{indent}{line}" for line in fast]
        lines.append(f"{indent}else:")
        indent += "    "
    lines += [
        f"{indent}value = run.resolved({where})",
        f"{indent}results[{key}] = value",
        f"{indent}if run.is_awaitable(value):",
        f"{indent}    awaiting.append({key})",
    ]
    return lines


def _fast(index: int, field: FieldPlan, key: str, type_name: str) -> list[str]:
    """The lines completing the value the field usually has, under an `if` its
    check; none when the field has no such value."""
    leaf = field.leaf
    if leaf is not None:
        if leaf in _LEAVES:
            check, written = _LEAVES[leaf]
            return [f"if {check}:", f"    results[{key}] = {written}"]
        if leaf.coerce_output_value is serialize_date_time:
            return ["if type(value) is datetime:", f"    results[{key}] = S{index}(value)"]
        return []
    child = _object_child(field)
    if child is None:
        return []
    check = f"type(value) in CLS{index}"
    if child.checked:  # a cast object takes graphql-core's completion (runner.py)
        check += f" and getattr(value, {TYPE_CAST_ATTRIBUTE!r}, None) is None"
    return [
        f"if {check}:",
        f"    child = new_path(Path, (path, {key}, {type_name!r}))",
        "    try:",
        f"        value = C{index}(run, value, child)",
        "    except Exception as error:",
        f"        value = run.located(F{index}, error, child)",
        "    else:",
        "        if type(value) is not dict:",
        f"            value = run.await_field(F{index}, value, child)",
        f"            awaiting.append({key})",
        f"    results[{key}] = value",
    ]


def _plain_name(attribute: str) -> bool:
    return attribute.isidentifier() and not keyword.iskeyword(attribute)


def _object_child(field: FieldPlan) -> Completion | None:
    """The field's object completion, when it has a function for a known class."""
    completion = field.completion
    if completion is not None and completion.kind is Kind.NON_NULL:
        completion = completion.inner
    if completion is None or completion.kind is not Kind.OBJECT:
        return None
    if completion.origin is None or completion.complete is None:
        return None
    return completion


def accepted_classes(origin: type, checked: bool) -> frozenset[type]:
    """The classes whose instances an object type's function takes at once: the
    type's own, and without strawberry's is_type_of (not `checked`: graphql-core
    takes any value) the classes it derives from too, for a generic type's
    specialisation (PhotoEdge) is a subclass of the class its values have (Edge)."""
    if checked:
        return frozenset({origin})
    return frozenset(
        cls
        for cls in origin.__mro__
        if cls not in (object, Generic)
        and not issubclass(cls, BaseException)
        and not hasattr(cls, "__await__")
    )
