"""Logs and traces (observability/): the app's log level, and tracing, off unless an
exporter is named."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from settings.variables import Reader, Section, Variable, choice, url

TracingExporter = Literal["off", "otlp", "cloudtrace"]


@dataclass(frozen=True)
class ObservabilitySettings:
    """Logs and traces (observability/)."""

    log_level: str = "INFO"
    tracing: TracingExporter = "off"
    otlp_endpoint: str | None = None  # None: the exporter's default (or OTEL_* variables)
    # Where traces and log lines' trace links belong: the deploy's Google Cloud project.
    project: str | None = None


LOG_LEVEL = Variable(
    "LOG_LEVEL",
    choice("DEBUG", "INFO", "WARNING", "ERROR", fold_case=True),
    "the app's loggers (timeline.*); JSON lines for Cloud Logging in production",
    default="INFO",
)
TRACING = Variable(
    "TRACING",
    choice("off", "otlp", "cloudtrace"),
    "OpenTelemetry traces: a span per request, operation and store round trip",
    default="off",
)
OTLP_ENDPOINT = Variable(
    "OTLP_ENDPOINT",
    url("http", "https"),
    "otlp: the collector's OTLP/HTTP traces URL",
    shown_default="http://localhost:4318/v1/traces (or OTEL_* variables)",
)
SECTION = Section("Operations", "Logs and traces.", (LOG_LEVEL, TRACING, OTLP_ENDPOINT))


def load_observability_settings(reader: Reader, project: str | None) -> ObservabilitySettings:
    return ObservabilitySettings(
        log_level=reader.value(LOG_LEVEL),
        tracing=reader.value(TRACING),  # type: ignore[arg-type]
        otlp_endpoint=reader.optional(OTLP_ENDPOINT),
        project=project,
    )
