"""Compiled plans (schema/compiled/) answer exactly what graphql-core's executor
answers: the same data, the same errors (message, path, locations, code), null
propagated to the same parent; in the same order too, except on the app's schema,
where the plan's prefetch completes a page's items in order (errors are compared
in path order there). Every query the test suite and the benchmarks send runs
both ways against a seeded SQLite store (tests/utils/plan_world.py), signed in
and out, with and without store faults that make nullable and non-null fields
fail; then what runs from a plan and what is left to graphql-core, and what a
plan costs. Generated operations and values: test_compiled_plans_generated.py."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from schema import compiled
from settings import Settings
from store import counters, models
from tests.utils import app_documents
from tests.utils.clients import app_client
from tests.utils.plan_world import FAULTS, VIEWERS, World, open_world
from tests.utils.suite_documents import suite_queries, variable_choices


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(tmp_path) as world:
        yield world


# -- every query the test suite and the benchmarks send ------------------------------


@pytest.mark.slow
async def test_every_query_of_the_suite_answers_the_same_both_ways(world: World) -> None:
    queries = suite_queries(world.compiled._schema)
    assert len(queries) >= 15, queries  # the scan finds the suite's documents
    planned_before = compiled.stats.planned
    runs = errors = 0
    for query in queries:
        for variables in variable_choices(query, world.ids):
            for viewer, corrupt in itertools.product(VIEWERS, [frozenset(), {models.USER}]):
                world.store.corrupt = frozenset(corrupt)
                mine, theirs = await world.both(query, variables, viewer)
                assert mine == theirs, (query, variables, viewer, corrupt)
                runs += 1
                errors += len(mine["errors"])
    assert errors  # faults, bad ids and signed-out viewers were among them
    assert compiled.stats.planned - planned_before >= runs // 2  # most ran from a plan


async def test_store_faults_null_the_nearest_nullable_parent_the_same_way(world: World) -> None:
    query = """query($id: ID!) { node(id: $id) { ... on User { username photos(first: 3) {
      edges { cursor node { id likeCount viewerHasLiked commentCount owner { username } } }
      pageInfo { endCursor } } } } }"""
    answers = []
    for broken in FAULTS:
        world.store.broken = frozenset(broken)
        mine, theirs = await world.both(query, {"id": world.ids["bob"]}, VIEWERS[1])
        assert mine == theirs, broken
        answers.append(mine)
    counts_broken = answers[FAULTS.index({counters.SHARD_KIND})]
    # A count is Int!, a node Photo!, an edge Edge!: null goes up to the nullable connection.
    assert counts_broken["data"]["node"] == {"username": "bob", "photos": None}
    [error] = counts_broken["errors"]
    assert error["path"][:5] == ["node", "photos", "edges", 0, "node"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"

    orphan = "query($id: ID!) { node(id: $id) { id ... on Photo { caption owner { id } } } }"
    mine, theirs = await world.both(orphan, {"id": world.ids["orphan"]}, None)
    assert mine == theirs
    assert mine["data"]["node"]["owner"] is None  # nullable: only the owner is null
    assert [error["path"] for error in mine["errors"]] == [["node", "owner"]]


# -- what runs where ----------------------------------------------------------------------


async def test_the_apps_queries_run_from_plans_over_http(settings: Settings) -> None:
    query = "query($n: Int) { photos(first: $n) { edges { node { id caption } } } }"
    async with app_client(settings) as http:
        before = compiled.stats.planned
        for _ in range(3):
            response = await http.post("/graphql", json={"query": query, "variables": {"n": 2}})
            assert response.status_code == 200
        assert compiled.stats.planned - before == 3


async def test_what_the_compiler_leaves_to_graphql_core_is_counted(world: World) -> None:
    before = dict(compiled.stats.fallback)
    for query in (
        "{ __schema { queryType { name } } }",
        "mutation($u: ID!) { follow(input: {userId: $u}) { errors { code } } }",
    ):
        mine, _ = await world.both(query, {"u": world.ids["bob"]}, VIEWERS[1])
        assert mine["data"] is not None
    grown = {
        reason for reason, count in compiled.stats.fallback.items() if count > before.get(reason, 0)
    }
    assert grown == {"introspection", "mutation operation"}


async def test_the_plan_cache_weighs_an_operation_by_the_plans_it_keeps(world: World) -> None:
    # A plan is ~130 times its text: counted by text, 1 MiB of cached documents
    # could have kept over 100 MB of plans.
    plans = getattr(world.compiled.execution_context_class, "plans")  # noqa: B009
    query = "query($n: Boolean!) { viewer { user { username @include(if: $n) } } }"
    weigh = compiled.PLAN_BYTES_PER_TEXT_BYTE * len(query)
    before = plans.bytes
    mine, _ = await world.both(query, {"n": True}, VIEWERS[1])
    assert mine["data"]["viewer"]["user"]["username"]
    assert plans.bytes - before == len(query) + weigh
    await world.both(query, {"n": True}, VIEWERS[1])  # the same plan: no more weight
    assert plans.bytes - before == len(query) + weigh
    await world.both(query, {"n": False}, VIEWERS[1])  # a second set of conditions
    assert plans.bytes - before == len(query) + 2 * weigh
    assert plans.max_bytes == compiled.CACHED_PLAN_BYTES


async def test_a_page_reads_its_photos_counts_at_once_not_a_task_each(world: World) -> None:
    """The profile screen: a user's photos with owners, counts and viewerHasLiked.
    graphql-core (and a plan without the prefetch) makes a coroutine and a Task
    per field per photo; the plan reads their keys in one get before the page,
    so its Tasks do not grow with the page, nor do its round trips."""
    loop = asyncio.get_running_loop()
    tasks = 0

    def counting_tasks(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
        nonlocal tasks
        tasks += 1
        return asyncio.Task(coro, loop=loop, **kwargs)

    counts: dict[tuple[str, int], tuple[int, int]] = {}
    # Twice each, the second counted: the first read of a kind may cross a thread,
    # which changes which loads share a batch.
    for (name, schema), first, _ in itertools.product(
        (("compiled", world.compiled), ("generic", world.generic)), (1, 4), range(2)
    ):
        tasks = 0
        before = world.store.round_trips
        loop.set_task_factory(counting_tasks)
        try:
            answer = await world.answer(
                schema, app_documents.PROFILE, {"username": "bob", "first": first}, VIEWERS[1]
            )
        finally:
            loop.set_task_factory(None)
        assert not answer["errors"]
        assert len(answer["data"]["user"]["photos"]["edges"]) == first
        counts[name, first] = (tasks, world.store.round_trips - before)
    assert counts["compiled", 4] == counts["compiled", 1], counts
    for first in (1, 4):  # its keys join the loader's batch: no round trip more
        assert counts["compiled", first][1] <= counts["generic", first][1], counts
    assert counts["generic", 4][0] >= counts["generic", 1][0] + 3 * 3, counts
