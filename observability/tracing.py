"""OpenTelemetry tracing, off unless TIMELINE_TRACING names an exporter.

When on, the app records a span per request (observability/middleware.py), per
GraphQL operation (graphql_route.py) and per store call (observability/traced_store.py),
and exports them in batches from a background thread:

- `otlp`: OTLP over HTTP to TIMELINE_OTLP_ENDPOINT, an OpenTelemetry Collector
  (which can forward to Cloud Trace, Jaeger, Tempo…);
- `cloudtrace`: straight to Cloud Trace in the deploy's project, with the
  instance's service account (it needs roles/cloudtrace.agent).

A request that arrives with a trace (traceparent or X-Cloud-Trace-Context) is
continued, and its sampling decision is kept: Google's front ends sample a few
requests a second, so Cloud Trace gets their whole trees and the rest cost no
export. A request without one starts a sampled trace.
"""

from __future__ import annotations

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased
from opentelemetry.trace import Tracer

from settings.observability import ObservabilitySettings

SERVICE_NAME = "photo-timeline"
TRACER_NAME = "timeline"


def tracer_provider_from_settings(settings: ObservabilitySettings) -> TracerProvider | None:
    """The provider exporting to the configured place; None when tracing is off."""
    if settings.tracing == "off":
        return None
    return tracer_provider(BatchSpanProcessor(_exporter(settings)))


def tracer_provider(processor: SpanProcessor) -> TracerProvider:
    """A provider of our own (never the process-wide global), so that each app
    built in a process, as the tests build many, exports where it was told."""
    provider = TracerProvider(
        resource=Resource.create({"service.name": SERVICE_NAME}), sampler=ParentBased(ALWAYS_ON)
    )
    provider.add_span_processor(processor)
    return provider


def app_tracer(provider: TracerProvider) -> Tracer:
    return provider.get_tracer(TRACER_NAME)


def _exporter(settings: ObservabilitySettings) -> SpanExporter:
    if settings.tracing == "cloudtrace":
        from opentelemetry.exporter.cloud_trace import CloudTraceSpanExporter

        return CloudTraceSpanExporter(project_id=settings.project)  # type: ignore[no-untyped-call]
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=settings.otlp_endpoint)
