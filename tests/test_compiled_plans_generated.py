"""Compiled plans (schema/compiled/) answer exactly what graphql-core's executor
answers for operations hypothesis generates over the public schema (aliases,
fragments, @skip/@include, variables), against a seeded SQLite store
(tests/utils/plan_world.py), signed in and out, with entities whose decoding
fails; and for values that fail on a small schema (nulls in non-null fields,
wrong types, errors). The suite's own queries: test_compiled_plans.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    parse,
    validate,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auth.viewer import Viewer
from schema import build_schema, compiled
from store import models
from tests import test_plain_fields as plain_fields_test
from tests.utils.plan_world import VIEWERS, World, open_world


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(tmp_path) as world:
        yield world


# -- generated operations ---------------------------------------------------------------

ARGUMENTS: dict[str, list[str]] = {
    "first": ["1", "2", "$n"],
    "last": ["1"],
    "id": ['"$ID_alice"', '"$ID_photo"', '"$ID_orphan"', '"nonsense"', "$id"],
    "ids": ['["$ID_alice", "$ID_photo"]', "[$id]"],
    "username": ['"alice"', '"nobody"'],
    "size": ["THUMBNAIL", "LARGE"],
}
# Pages and lists stay small (the test must take seconds), and the mutations' and
# the admin's corners are left to their own tests.
SKIPPED = {"followers", "following", "devices", "emailPreferences", "message", "actors"}


def selection(schema: GraphQLSchema, type_: Any, depth: int) -> st.SearchStrategy[str]:
    named = get_named_type(type_)
    if isinstance(named, GraphQLInterfaceType):
        members = schema.get_possible_types(named)
        fragments = st.lists(st.sampled_from(members), min_size=1, max_size=2, unique=True)
        return fragments.flatmap(
            lambda picked: st.tuples(
                *(selection(schema, member, depth).map(_on(member.name)) for member in picked)
            ).map(lambda parts: "__typename " + " ".join(parts))
        )
    assert isinstance(named, GraphQLObjectType)
    names = [
        name
        for name, field in named.fields.items()
        if name not in SKIPPED and (depth > 0 or not _has_fields(field.type))
    ]
    return st.lists(st.sampled_from([*names, "__typename"]), min_size=1, max_size=5).flatmap(
        lambda picked: st.tuples(*(field_text(schema, named, name, depth) for name in picked)).map(
            " ".join
        )
    )


def _has_fields(type_: Any) -> bool:
    return isinstance(get_named_type(type_), GraphQLObjectType | GraphQLInterfaceType)


def _on(type_name: str) -> Any:
    return lambda inner: f"... on {type_name} {{ {inner} }}"


def field_text(
    schema: GraphQLSchema, parent: GraphQLObjectType, name: str, depth: int
) -> st.SearchStrategy[str]:
    if name == "__typename":
        return st.sampled_from(["__typename", "t: __typename"])
    field = parent.fields[name]
    arguments = st.tuples(
        *(
            st.one_of(st.none(), st.sampled_from(ARGUMENTS.get(arg, ["null"])))
            if not isinstance(definition.type, GraphQLNonNull)
            else st.sampled_from(ARGUMENTS.get(arg, ["null"]))
            for arg, definition in field.args.items()
        )
    ).map(
        lambda values: ", ".join(
            f"{arg}: {value}"
            for arg, value in zip(field.args, values, strict=True)
            if value is not None
        )
    )
    inner = (
        selection(schema, field.type, depth - 1).map(lambda text: f" {{ {text} }}")
        if _has_fields(field.type)
        else st.just("")
    )
    alias = st.sampled_from(["", "a: ", "b: "])
    condition = st.sampled_from(
        ["", "", " @include(if: $yes)", " @skip(if: $yes)", " @skip(if: false)"]
    )
    return st.tuples(alias, arguments, condition, inner).map(
        lambda parts: f"{parts[0]}{name}{f'({parts[1]})' if parts[1] else ''}{parts[2]}{parts[3]}"
    )


def operations(schema: GraphQLSchema) -> st.SearchStrategy[str]:
    query_type = schema.query_type
    assert query_type is not None
    return selection(schema, query_type, 4).map(_with_variables)


def _with_variables(text: str) -> str:
    """The operation, declaring the variables its selection uses."""
    declared = {"$yes": "Boolean!", "$n": "Int", "$id": "ID!"}
    used = [f"{name}: {type_}" for name, type_ in declared.items() if name in text]
    header = "(" + ", ".join(used) + ")" if used else ""
    return f"query{header} {{ {text} }}"


def _fill(query: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        query = query.replace(f"$ID_{name}", value)
    return query


_SCHEMA = build_schema()._schema


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    query=operations(_SCHEMA),
    yes=st.booleans(),
    n=st.sampled_from([None, 1, 3]),
    viewer=st.sampled_from(VIEWERS),
    corrupt=st.sampled_from([frozenset(), {models.USER}, {models.PHOTO}]),
    id_name=st.sampled_from(["alice", "bob", "photo", "orphan"]),
)
async def test_generated_operations_answer_the_same_both_ways(
    world: World,
    query: str,
    yes: bool,
    n: int | None,
    viewer: Viewer | None,
    corrupt: frozenset[str],
    id_name: str,
) -> None:
    query = _fill(query, world.ids)
    if validate(_SCHEMA, parse(query)):
        return  # merged fields with different arguments, unused $id...: validation's job
    world.store.corrupt = frozenset(corrupt)
    variables = {"yes": yes, "n": n, "id": world.ids[id_name]}
    mine, theirs = await world.both(query, variables, viewer)
    assert mine == theirs


# -- values that fail: a small schema whose fields return nulls, wrong types, errors ------


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(plain_fields_test.item_strategy(), min_size=1, max_size=3), st.data())
async def test_values_that_fail_fail_the_same_way_both_ways(
    items: list[plain_fields_test.Item], data: st.DataObject
) -> None:
    """Nulls in non-null fields and lists, values no scalar accepts, attributes
    that raise or must be awaited (tests/test_plain_fields.py's schema)."""
    selection = data.draw(plain_fields_test.selection_strategy(depth=1))
    compiled_schema = plain_fields_test.small_schema(items, plain=True)
    compiled.enable(compiled_schema)
    generic = plain_fields_test.small_schema(items, plain=False)
    for root in ("items", "maybeItems"):
        query = f"{{ {root} {{ {selection} }} }}"
        mine, theirs = await compiled_schema.execute(query), await generic.execute(query)
        assert mine.data == theirs.data
        assert [e.formatted for e in mine.errors or []] == [
            e.formatted for e in theirs.errors or []
        ]
