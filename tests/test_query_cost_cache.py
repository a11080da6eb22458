"""An operation's cost is worked out once per document and per answer of the
readings it makes of its variables (schema/cost_cache.py), and is the same cost
operation_cost finds, refusals included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import parse
from starlette.applications import Starlette

from app import create_app
from graphql_route import GraphQLRoute
from schema import build_schema
from schema.cost_cache import CostCache
from schema.query_cost import operation_cost
from settings import Settings
from store.sqlite import SQLiteStore
from tests.utils.app_documents import APP_DOCUMENTS
from tests.utils.clients import serving

SCHEMA = build_schema()._schema
PAGES = """query ($n: Int, $hide: Boolean!) {
  photos(first: $n) { edges { node { id @skip(if: $hide)
    comments(first: $n) { nodes { id text } } } } }
}"""
NODES = "query ($ids: [ID!]!) { nodes(ids: $ids) { id ... on Photo { owner { id } } } }"


@pytest.fixture
def app(settings: Settings, tmp_path: Path) -> Starlette:
    return create_app(settings, store=SQLiteStore(tmp_path / "timeline.db"))


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app) as client:
        yield client


@pytest.fixture
def costs(app: Starlette) -> CostCache:
    """The costs the app's public schema keeps."""
    [route] = [
        endpoint
        for r in app.routes
        if isinstance(endpoint := getattr(r, "endpoint", None), GraphQLRoute)
        and getattr(r, "path", None) == "/graphql"
    ]
    found: CostCache = route.schema.costs  # type: ignore[attr-defined]
    return found


async def post(http: httpx.AsyncClient, variables: dict[str, Any]) -> httpx.Response:
    return await http.post("/graphql", json={"query": PAGES, "variables": variables})


async def test_a_document_is_measured_once_per_page_size(
    http: httpx.AsyncClient, costs: CostCache
) -> None:
    for hide in (False, True, False):  # a variable the cost does not read
        assert (await post(http, {"n": 40, "hide": hide})).status_code == 200
    assert costs.measured == 1
    for _ in range(2):
        refused = await post(http, {"n": 60, "hide": False})
        assert refused.status_code == 400
        [error] = refused.json()["errors"]
        assert error["extensions"]["measured"] == 1 + 60 * (4 + 60 * 3)
    assert costs.measured == 2
    assert (await post(http, {"n": 40, "hide": True})).status_code == 200
    assert costs.measured == 2


def test_cached_costs_are_operation_costs() -> None:
    costs = CostCache(max_entries=8, max_bytes=1 << 20)
    cases: list[tuple[str, dict[str, Any]]] = [
        (PAGES, {"n": 3, "hide": False}),
        (PAGES, {"hide": False}),  # the default page size
        (PAGES, {"n": 3, "hide": True}),
        (PAGES, {"n": None, "hide": True}),
        (NODES, {"ids": ["a", "b"]}),
        (NODES, {"ids": ["c", "d"]}),  # other ids, the same length: the same cost
        (NODES, {"ids": []}),
        (NODES, {"ids": ["a"] * 500}),
    ]
    cases += [(document, variables) for document, variables in APP_DOCUMENTS.values()] * 2
    for query, variables in cases:
        document = parse(query)
        found = costs.cost(SCHEMA, query, document, None, variables)
        assert found == operation_cost(SCHEMA, document, None, variables)
    distinct = {(query, repr(sorted(v.items()))) for query, v in cases}
    # One walk per distinct case but three: the repeated page size, the page size
    # left out and given as null (both the default), the ids of a repeated length.
    assert costs.measured == len(distinct) - 3


def test_a_literal_list_holding_a_variable_has_its_own_length() -> None:
    costs = CostCache(max_entries=8, max_bytes=1 << 20)
    query = 'query ($id: ID!) { nodes(ids: ["a", $id]) { id } }'
    document = parse(query)
    for name in ("b", "c"):
        assert costs.cost(SCHEMA, query, document, None, {"id": name}) == 1 + 2
    assert costs.measured == 1


def test_a_page_size_with_a_variable_in_a_literal_is_measured_each_time() -> None:
    # Validation refuses it (`first` is an Int); the cache does not rely on that.
    costs = CostCache(max_entries=8, max_bytes=1 << 20)
    query = "query ($n: Int) { photos(first: [$n]) { nodes { id } } }"
    document = parse(query)
    for n in (1, 2):
        found = costs.cost(SCHEMA, query, document, None, {"n": n})
        assert found == operation_cost(SCHEMA, document, None, {"n": n})
    assert costs.measured == 2
