"""OpenTelemetry spans, exported to memory through the app factory: one request
gives a request span, an operation span under it, and a span per store round trip."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id

from app import create_app
from observability.traced_store import TracedStore
from observability.tracing import app_tracer, tracer_provider, tracer_provider_from_settings
from settings import Settings, SettingsError, TaskSettings, load_settings
from settings.observability import ObservabilitySettings
from store.keys import Key
from store.port import Entity
from store.sqlite import SQLiteStore
from tests.utils.builders import make_photos, make_user
from tests.utils.clients import serving

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
FEED = """query Everyone { photos(first: 5) { edges { node { caption owner { username } } } } }"""


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def traced(
    settings: Settings, exporter: InMemorySpanExporter
) -> AsyncIterator[tuple[httpx.AsyncClient, SQLiteStore]]:
    # No cron scheduler: nothing but the request touches the store meanwhile.
    quiet = replace(settings, tasks=TaskSettings(cron_scheduler=False))
    store = SQLiteStore(quiet.sqlite_path)
    provider = tracer_provider(SimpleSpanProcessor(exporter))
    app = create_app(quiet, store=store, tracer_provider=provider)
    async with serving(app, "http://t") as http:
        yield http, store


def children(spans: Sequence[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    return [s for s in spans if s.parent is not None and s.parent.span_id == parent.context.span_id]


async def test_a_request_is_a_request_span_an_operation_span_and_its_round_trips(
    traced: tuple[httpx.AsyncClient, SQLiteStore], exporter: InMemorySpanExporter
) -> None:
    http, store = traced
    for name in ("ann", "bob"):
        await make_photos(store, await make_user(store, name), 3)
    exporter.clear()
    before = store.round_trips
    response = await http.post(
        "/graphql",
        json={"query": FEED},
        headers={"traceparent": f"00-{TRACE_ID}-{CALLER_SPAN}-01", "x-request-id": "req-7"},
    )
    round_trips = store.round_trips - before
    assert response.status_code == 200
    assert "errors" not in response.json()
    spans = exporter.get_finished_spans()
    [request] = [s for s in spans if s.kind == SpanKind.SERVER]
    assert request.name == "POST /graphql"
    assert format_trace_id(request.context.trace_id) == TRACE_ID  # the caller's trace goes on
    assert request.parent is not None
    assert format_span_id(request.parent.span_id) == CALLER_SPAN
    assert request.attributes is not None
    assert request.attributes["http.response.status_code"] == 200
    assert request.attributes["timeline.request_id"] == "req-7"
    [operation] = children(spans, request)
    assert operation.name == "GraphQL Everyone"
    store_spans = [s for s in spans if s.name.startswith("store.")]
    assert round_trips >= 2  # the page, then the owners in one batch
    assert len(store_spans) == round_trips
    assert children(spans, operation) == store_spans
    assert len(spans) == 2 + round_trips


async def test_a_transaction_is_a_span_per_read_and_one_for_its_commit(
    settings: Settings, exporter: InMemorySpanExporter
) -> None:
    inner = SQLiteStore(settings.sqlite_path)
    store = TracedStore(inner, app_tracer(tracer_provider(SimpleSpanProcessor(exporter))))
    key = Key.of("Counter", "c")
    async with store.transaction() as tx:
        await tx.get_many([key])
        tx.put_many([Entity(key, {"n": 1})])
    async with store.transaction() as tx:  # reads only: nothing to commit
        await tx.get_many([key])
    await _give_up(store, Entity(key, {"n": 2}))
    await store.get_many([])  # answered without a round trip
    names = [span.name for span in exporter.get_finished_spans()]
    assert names == ["store.transaction.get_many", "store.commit", "store.transaction.get_many"]
    assert len(names) == inner.round_trips
    assert (await inner.get_many([key]))[0] == Entity(key, {"n": 1})
    await store.close()


async def _give_up(store: TracedStore, entity: Entity) -> None:
    """A transaction whose body fails: nothing is committed, the error goes on."""
    with pytest.raises(RuntimeError, match="given up"):
        await _write_then_fail(store, entity)


async def _write_then_fail(store: TracedStore, entity: Entity) -> None:
    async with store.transaction() as tx:
        tx.put_many([entity])
        raise RuntimeError("given up")


async def test_tracing_is_off_by_default_and_then_adds_nothing(settings: Settings) -> None:
    environ = {"TIMELINE_ENV": "local", "TIMELINE_VAR_DIR": str(settings.var_dir)}
    assert load_settings(environ).observability == ObservabilitySettings()
    assert tracer_provider_from_settings(ObservabilitySettings()) is None
    store = SQLiteStore(settings.sqlite_path)
    app = create_app(settings, store=store)
    layers = [app.state.store]
    while hasattr(layers[-1], "inner"):  # the cache's, when on
        layers.append(layers[-1].inner)
    assert layers[-1] is store
    assert not any(isinstance(layer, TracedStore) for layer in layers)


def test_the_otlp_exporter_is_built_from_settings(tmp_path: Path) -> None:
    environ = {
        "TIMELINE_ENV": "local",
        "TIMELINE_VAR_DIR": str(tmp_path),
        "TIMELINE_TRACING": "otlp",
        "TIMELINE_OTLP_ENDPOINT": "http://127.0.0.1:4318/v1/traces",
    }
    observability = load_settings(environ).observability
    assert (observability.tracing, observability.otlp_endpoint) == (
        "otlp",
        "http://127.0.0.1:4318/v1/traces",
    )
    provider = tracer_provider_from_settings(observability)
    assert provider is not None
    provider.shutdown()  # no span was made: nothing is sent


@pytest.mark.parametrize(
    ("name", "value"),
    [("TRACING", "jaeger"), ("OTLP_ENDPOINT", "127.0.0.1:4318"), ("LOG_LEVEL", "LOUD")],
)
def test_a_bad_operations_setting_is_refused_by_name(tmp_path: Path, name: str, value: str) -> None:
    environ = {
        "TIMELINE_ENV": "local",
        "TIMELINE_VAR_DIR": str(tmp_path),
        f"TIMELINE_{name}": value,
    }
    with pytest.raises(SettingsError, match=f"TIMELINE_{name}"):
        load_settings(environ)
