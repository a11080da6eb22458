"""The operations part of the settings: log level and tracing.

    TIMELINE_LOG_LEVEL        the app's loggers (timeline.*): INFO (default), DEBUG, WARNING…
    TIMELINE_TRACING          off (default) | otlp | cloudtrace
    TIMELINE_OTLP_ENDPOINT    otlp: the collector's OTLP/HTTP traces URL
                              (default http://localhost:4318/v1/traces)

Read by `settings.load_settings`, which imports this module; the reverse import
happens only inside `load_observability_settings`, once settings.py has loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

TracingExporter = Literal["off", "otlp", "cloudtrace"]
EXPORTERS: tuple[TracingExporter, ...] = ("off", "otlp", "cloudtrace")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
Getter = Callable[[str, str | None], str | None]


@dataclass(frozen=True)
class ObservabilitySettings:
    """Logs and traces (observability/)."""

    log_level: str = "INFO"
    tracing: TracingExporter = "off"
    otlp_endpoint: str | None = None  # None: the exporter's default (or OTEL_* variables)
    # Where traces and log lines' trace links belong: the deploy's Google Cloud project.
    project: str | None = None


def load_observability_settings(get: Getter, project: str | None) -> ObservabilitySettings:
    from settings import PREFIX, SettingsError

    level = (get("LOG_LEVEL", "INFO") or "INFO").upper()
    if level not in LOG_LEVELS:
        raise SettingsError(
            f"{PREFIX}LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {level!r}"
        )
    tracing = get("TRACING", "off") or "off"
    if tracing not in EXPORTERS:
        raise SettingsError(
            f"{PREFIX}TRACING must be one of {', '.join(EXPORTERS)}, not {tracing!r}"
        )
    endpoint = get("OTLP_ENDPOINT", None) or None
    if endpoint is not None and urlsplit(endpoint).scheme not in ("http", "https"):
        raise SettingsError(f"{PREFIX}OTLP_ENDPOINT must be an http(s) URL, not {endpoint!r}")
    return ObservabilitySettings(
        log_level=level,
        tracing=tracing,
        otlp_endpoint=endpoint,
        project=project,
    )
