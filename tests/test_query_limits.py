"""Every query limit refuses a document just past it, with HTTP 400 and a coded
error naming the rule, the limit and the measured figure; the app's own documents
pass with room to spare; refused documents are not cached.

Refusals come before any store access, so these run on the embedded store only.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import DocumentNode, get_introspection_query, parse, validate
from starlette.applications import Starlette

from app import create_app
from graphql_route import GraphQLRoute
from schema import build_schema
from schema.document_cache import DocumentCache
from schema.document_figures import measure
from schema.query_cost import operation_cost
from settings import QueryLimits, Settings
from store.sqlite import SQLiteStore
from tests.utils.app_documents import APP_DOCUMENTS
from tests.utils.clients import serving
from tests.utils.hostile_documents import (
    EXPONENTIAL_FRAGMENTS,
    HOSTILE_DOCUMENTS,
    cost_bomb,
    status_of,
)

LIMITS = QueryLimits()
SCHEMA = build_schema()._schema
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def app(settings: Settings, tmp_path: Path) -> Starlette:
    return create_app(settings, store=SQLiteStore(tmp_path / "timeline.db"))


@pytest.fixture
async def app_client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app) as http:
        yield http


@pytest.fixture
def cache(app: Starlette) -> DocumentCache[DocumentNode]:
    """The documents the app's schema keeps."""
    [route] = [
        r
        for r in app.routes
        if isinstance(getattr(r, "endpoint", None), GraphQLRoute)
        and getattr(r, "path", None) == "/graphql"
    ]
    documents: DocumentCache[DocumentNode] = route.endpoint.schema.documents  # type: ignore[attr-defined]
    return documents


async def post(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> httpx.Response:
    return await http.post("/graphql", json={"query": query, "variables": variables or {}})


async def refusal(
    http: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    status: int = 400,
) -> dict[str, Any]:
    response = await post(http, query, variables)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    extensions: dict[str, Any] = error["extensions"]
    return extensions


def nested(depth: int) -> str:
    """`user { followers { nodes { followers { nodes ... username } } } } }`: `depth` fields."""
    pairs = ["followers(first: 1)", "nodes"] * ((depth - 2) // 2)
    levels = ['user(username: "alice")', *pairs] + ["followers(first: 1)"] * (depth % 2)
    return "{ " + " { ".join(levels) + " { username" + " }" * len(levels) + " }"


# rule -> (a document just past the default limit, its code, its measured figure)
JUST_PAST: dict[str, tuple[str, str, int]] = {
    "bytes": (
        "{ __typename }" + " " * (LIMITS.max_bytes - 13),
        "DOCUMENT_TOO_LARGE",
        LIMITS.max_bytes + 1,
    ),
    "tokens": (
        "{" + " a" * LIMITS.max_tokens + " }",
        "DOCUMENT_TOO_LARGE",
        LIMITS.max_tokens + 1,
    ),
    "operations": (
        " ".join(f"query q{n} {{ __typename }}" for n in range(LIMITS.max_operations + 1)),
        "QUERY_TOO_COMPLEX",
        LIMITS.max_operations + 1,
    ),
    "fields": (
        "{" + " __typename" * (LIMITS.max_fields + 1) + " }",
        "QUERY_TOO_COMPLEX",
        LIMITS.max_fields + 1,
    ),
    "aliases": (
        "{" + "".join(f" a{n}: __typename" for n in range(LIMITS.max_aliases + 1)) + " }",
        "QUERY_TOO_COMPLEX",
        LIMITS.max_aliases + 1,
    ),
    "directives": (
        "{ __typename" + " @skip(if: false)" * (LIMITS.max_directives + 1) + " }",
        "QUERY_TOO_COMPLEX",
        LIMITS.max_directives + 1,
    ),
    "depth": (nested(LIMITS.max_depth + 1), "QUERY_TOO_COMPLEX", LIMITS.max_depth + 1),
    # 1 + 100 x (edges 1 + node 1 + comments (1 + 50 x (nodes 1 + id 1)))
    "cost": (
        "{ photos(first: 100) { edges { node { comments(first: 50) { nodes { id } } } } } }",
        "QUERY_TOO_COMPLEX",
        1 + 100 * (3 + 50 * 2),
    ),
}


@pytest.mark.parametrize("rule", JUST_PAST)
async def test_each_limit_refuses_a_document_just_past_it(
    app_client: httpx.AsyncClient, cache: DocumentCache[DocumentNode], rule: str
) -> None:
    document, code, measured = JUST_PAST[rule]
    extensions = await refusal(app_client, document)
    limit = getattr(LIMITS, f"max_{rule}")
    assert extensions == {"code": code, "rule": rule, "limit": limit, "measured": measured}
    assert len(cache) == 0


async def test_documents_at_the_limits_pass(app_client: httpx.AsyncClient) -> None:
    at_the_limits = [
        "{ __typename }" + " " * (LIMITS.max_bytes - 14),
        "{" + "".join(f" a{n}: __typename" for n in range(LIMITS.max_aliases)) + " }",
        nested(LIMITS.max_depth),
    ]
    for document in at_the_limits:
        response = await post(app_client, document)
        assert response.status_code == 200, response.text
        codes = {error["extensions"]["code"] for error in response.json().get("errors", [])}
        assert not codes & {"DOCUMENT_TOO_LARGE", "QUERY_TOO_COMPLEX"}


async def test_page_sizes_come_from_variables_and_default_to_twenty(
    app_client: httpx.AsyncClient,
) -> None:
    query = """query ($n: Int) {
      photos(first: $n) { edges { node { comments(first: $n) { nodes { id text } } } } }
    }"""
    assert (await post(app_client, query, {"n": 40})).status_code == 200
    extensions = await refusal(app_client, query, {"n": 60})
    assert extensions["measured"] == 1 + 60 * (3 + 60 * 3)
    document = parse(query)
    assert operation_cost(SCHEMA, document, None, {}) == 1 + 20 * (3 + 20 * 3)
    assert operation_cost(SCHEMA, document, None, {"n": 2}) == 1 + 2 * (3 + 2 * 3)


def test_cost_counts_each_fragment_once_per_spread() -> None:
    document = parse(
        "query ($ids: [ID!]!) { nodes(ids: $ids) { ...Card } viewer { user { photos(last: 5) {"
        " nodes { ...Card } } } } } fragment Card on Node { id ... on Photo { owner { id } } }"
    )
    # Card: id, owner, owner.id. nodes: 1 + 3 x Card;
    # viewer: 1 + user (1 + photos (1 + 5 x (nodes + Card)))
    cost = operation_cost(SCHEMA, document, None, {"ids": ["a", "b", "c"]})
    assert cost == (1 + 3 * 3) + (1 + 1 + 1 + 5 * (1 + 3))


def test_depth_expands_fragments_and_measures_each_once() -> None:
    document = parse(EXPONENTIAL_FRAGMENTS)
    assert measure(document).depth == 1
    chain = "{ viewer { user { ...A } } } fragment A on User { followers { nodes { ...B } } }"
    chain += " fragment B on User { followers { nodes { username } } }"
    assert measure(parse(chain)).depth == 7


async def test_the_exponential_fragment_document_is_refused_by_its_cost(
    app_client: httpx.AsyncClient,
) -> None:
    extensions = await refusal(app_client, EXPONENTIAL_FRAGMENTS)
    assert extensions == {
        "code": "QUERY_TOO_COMPLEX",
        "rule": "cost",
        "limit": LIMITS.max_cost,
        "measured": 2**30,
    }


@pytest.mark.parametrize("name", HOSTILE_DOCUMENTS)
async def test_the_documents_of_issue_10_are_refused_and_not_cached(
    app_client: httpx.AsyncClient, cache: DocumentCache[DocumentNode], name: str
) -> None:
    document, code, rule = HOSTILE_DOCUMENTS[name]
    extensions = await refusal(app_client, document, status=status_of(code))
    assert (extensions["code"], extensions.get("rule", "body")) == (code, rule)
    assert len(cache) == 0


async def test_even_one_alias_of_the_cost_bomb_is_refused(app_client: httpx.AsyncClient) -> None:
    # 1 + 50 x (edges 1 + node 1 + id 1 + comments (1 + 50 x (edges, node, id, text)))
    extensions = await refusal(app_client, cost_bomb(aliases=1))
    assert (extensions["rule"], extensions["measured"]) == ("cost", 1 + 50 * (4 + 50 * 4))


@pytest.mark.parametrize("name", APP_DOCUMENTS)
async def test_the_apps_documents_pass_with_room_to_spare(
    app_client: httpx.AsyncClient, name: str
) -> None:
    document, variables = APP_DOCUMENTS[name]
    response = await post(app_client, document, variables)
    assert response.status_code == 200, response.text
    parsed = parse(document)
    assert validate(SCHEMA, parsed) == []  # a screen of today's schema
    figures = measure(parsed)
    cost = operation_cost(SCHEMA, parsed, None, variables)
    assert cost is not None
    measured = {
        "bytes": len(document.encode()),
        "tokens": parsed.token_count,
        "fields": figures.fields,
        "aliases": figures.aliases,
        "directives": figures.directives,
        "depth": figures.depth,
        "cost": cost,
    }
    for rule, value in measured.items():
        # Room to spare: at most two thirds of each limit.
        assert value * 3 <= getattr(LIMITS, f"max_{rule}") * 2, (rule, value)


def documented_queries() -> list[str]:
    texts = [ROOT.joinpath("README.md").read_text()]
    texts += [path.read_text() for path in sorted(ROOT.joinpath("docs").glob("*.md"))]
    return [block for text in texts for block in re.findall(r"```graphql\n(.*?)```", text, re.S)]


async def test_documented_queries_and_graphiqls_introspection_pass(
    app_client: httpx.AsyncClient,
) -> None:
    documents = [*documented_queries(), get_introspection_query(descriptions=True)]
    assert len(documents) > 5
    for document in documents:
        for operation in _operations(document):
            response = await post(app_client, operation)
            assert response.status_code == 200, (operation, response.text)


def _operations(document: str) -> list[str]:
    """README blocks may hold several operations; each is sent as clients would."""
    return [part for part in re.split(r"\n\n(?=query|mutation|\{)", document) if part.strip()]


async def test_passing_documents_are_cached_and_refused_ones_are_not(
    app_client: httpx.AsyncClient, cache: DocumentCache[DocumentNode]
) -> None:
    query = "query ($n: Int) { photos(first: $n) { nodes { comments(first: $n) { nodes { id } } } }"
    query += " }"
    extensions = await refusal(app_client, query, {"n": 100})
    assert extensions["measured"] == 1 + 100 * (2 + 100 * 2)
    assert len(cache) == 0
    for _ in range(2):
        assert (await post(app_client, query, {"n": 10})).status_code == 200
    assert (len(cache), cache.bytes) == (1, len(query))


def test_the_cache_is_bounded_by_bytes_and_by_count() -> None:
    cache: DocumentCache[str] = DocumentCache(max_entries=3, max_bytes=100)
    for n in range(3):
        cache.put(n, f"doc {n}", size=30)
    assert (len(cache), cache.bytes) == (3, 90)
    cache.get(0)  # recently used: survives the next eviction
    cache.put(3, "doc 3", size=30)
    assert cache.get(1) is None
    assert cache.get(0) == "doc 0"
    cache.put(4, "doc 4", size=70)  # over 100 bytes: the oldest go until it fits
    assert cache.bytes <= 100
    assert cache.get(4) == "doc 4"
    cache.put(5, "too big", size=101)
    assert cache.get(5) is None
    assert len(cache) <= 3
