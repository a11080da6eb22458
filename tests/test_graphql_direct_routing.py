"""Which requests the direct path (graphql_direct.py) answers and which it leaves
to strawberry's view: a known query goes direct with its span named and its
round trips unchanged; a persisted query's registration, a mutation,
introspection, another method, a cost over the limit, a multipart request and
a schema with an extension the path does not reproduce go the normal way."""

from __future__ import annotations

import json
from dataclasses import replace

import httpx
import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from strawberry.extensions import MaskErrors

from app import create_app
from benchmarks.http_sides import USER_PAGE
from graphql_direct import DirectPath, stats
from observability.tracing import tracer_provider
from schema import build_schema
from settings import CacheSettings, QueryLimits, Settings
from store.sqlite import SQLiteStore
from tests.test_graphql_direct import PHOTOS, Call, seed
from tests.utils.clients import app_client
from trusted_documents import document_hash


async def test_a_direct_answer_names_its_operation_span_as_the_normal_path(
    settings: Settings,
) -> None:
    exporter = InMemorySpanExporter()
    app = create_app(settings, tracer_provider=tracer_provider(SimpleSpanProcessor(exporter)))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        answered = []
        for _ in range(2):
            before = stats.answered
            response = await http.post("/graphql", json={"query": PHOTOS, "variables": {"n": 1}})
            assert response.status_code == 200
            answered.append(stats.answered - before)
    assert answered == [0, 1]
    operations = [s.name for s in exporter.get_finished_spans() if s.name.startswith("GraphQL")]
    assert operations == ["GraphQL Photos", "GraphQL Photos"]


async def test_an_apq_registration_takes_the_normal_path_and_then_the_hash_goes_direct(
    settings: Settings,
) -> None:
    apq = {"persistedQuery": {"version": 1, "sha256Hash": document_hash(PHOTOS)}}
    async with app_client(settings) as http:
        await Call(PHOTOS, {"n": 1}).send(http)  # known, not yet registered
        went = []
        for call in (Call(PHOTOS, {"n": 1}, extensions=apq), Call(None, {"n": 1}, extensions=apq)):
            before = stats.answered
            response = await call.send(http)
            assert response.status_code == 200
            assert response.json()["data"]["photos"] is not None
            went.append(stats.answered - before)
    assert went == [0, 1]


async def test_a_page_costs_the_same_round_trips_on_both_paths(settings: Settings) -> None:
    ids = await seed(settings)
    uncached = replace(settings, cache=CacheSettings(backend="off"))  # every request reads
    trips: dict[bool, list[int]] = {}
    for direct in (False, True):
        store = SQLiteStore(settings.sqlite_path)
        async with app_client(uncached, store, direct_graphql=direct) as http:
            trips[direct] = []
            for _ in range(3):  # the second and third go direct when it is on
                before = store.round_trips
                response = await Call(USER_PAGE, {"id": ids["bob"], "n": 2}).send(http)
                assert response.status_code == 200
                trips[direct].append(store.round_trips - before)
    assert trips[True] == trips[False]
    assert trips[True] == [2, 2, 2]  # the photos, then their owners in one get


# -- what the direct path leaves to the normal one ---------------------------------


async def sent_twice(settings: Settings, call: Call) -> tuple[int, int]:
    """How many of the second sending went direct, and how many were passed on."""
    async with app_client(settings) as http:
        await call.send(http)
        answered, passed = stats.answered, stats.passed
        await call.send(http)
        return stats.answered - answered, stats.passed - passed


@pytest.mark.parametrize(
    "call",
    [
        Call("mutation { markNotificationsRead(input: {}) { errors { code } } }"),
        Call("{ __schema { queryType { name } } }"),
        Call('{ __type(name: "User") { name } }'),
        Call("query { photos(first: 1) { edges { cursor } } }", method="PUT"),
    ],
    ids=["mutation", "introspection", "type-introspection", "other-method"],
)
async def test_what_the_direct_path_does_not_reproduce_takes_the_normal_path(
    settings: Settings, call: Call
) -> None:
    assert await sent_twice(settings, call) == (0, 1)


async def test_a_known_query_over_its_cost_is_refused_by_the_normal_path(
    settings: Settings,
) -> None:
    strict = replace(settings, query_limits=QueryLimits(max_cost=30))
    async with app_client(strict) as http:
        for n, status in ((1, 200), (1, 200), (50, 400)):
            answered = stats.answered
            response = await http.post("/graphql", json={"query": PHOTOS, "variables": {"n": n}})
            assert response.status_code == status, response.text
        assert stats.answered == answered  # the over-cost one was passed on
        assert response.json()["errors"][0]["extensions"]["rule"] == "cost"


async def test_a_multipart_request_takes_the_normal_path(settings: Settings) -> None:
    operations = json.dumps({"query": PHOTOS, "variables": {"n": 1}})
    async with app_client(settings) as http:
        await http.post("/graphql", json={"query": PHOTOS, "variables": {"n": 1}})
        answered = stats.answered
        response = await http.post(
            "/graphql",
            data={"operations": operations, "map": "{}"},
            files={"unused": ("a.txt", b"x")},
            headers={"apollo-require-preflight": "true"},
        )
        assert response.status_code == 200, response.text
        assert stats.answered == answered


def test_a_schema_with_an_extension_it_does_not_reproduce_gets_no_direct_path() -> None:
    schema = build_schema()
    assert DirectPath.reproduces(schema)
    schema.extensions = (*schema.extensions, MaskErrors)
    assert not DirectPath.reproduces(schema)
