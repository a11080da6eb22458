"""Log lines: JSON in Cloud Logging's structured format in production, readable
ones locally; and the logging configuration serve.py hands to uvicorn.

Production writes one JSON object per line on stdout, which App Engine and Cloud
Run turn into structured entries: `severity`, `message`, `time`, the request's
trace (`logging.googleapis.com/trace`, so that its lines group under the request
in the Logs Explorer and Cloud Trace), `logging.googleapis.com/spanId`, our
`requestId` and `operationName`, and an exception's traceback as `stack_trace`
(which Error Reporting reads). The access line adds `httpRequest` and `latencyMs`.

Extra fields for one line go in `extra={"fields": {...}}`.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

from observability.context import RequestLog, current_request

TRACE = "logging.googleapis.com/trace"
SPAN_ID = "logging.googleapis.com/spanId"
TRACE_SAMPLED = "logging.googleapis.com/trace_sampled"
SOURCE = "logging.googleapis.com/sourceLocation"
# Python's levels as Cloud Logging's LogSeverity names, highest first.
_SEVERITIES = ((50, "CRITICAL"), (40, "ERROR"), (30, "WARNING"), (20, "INFO"), (10, "DEBUG"))


def severity(levelno: int) -> str:
    for floor, name in _SEVERITIES:
        if levelno >= floor:
            return name
    return "DEFAULT"


class CloudLoggingFormatter(logging.Formatter):
    """One JSON object per record, in Cloud Logging's structured-logging format."""

    def __init__(self, project: str | None = None) -> None:
        super().__init__()
        self._trace_prefix = f"projects/{project}/traces/" if project else None

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": severity(record.levelno),
            "message": record.getMessage(),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
            SOURCE: {"file": record.pathname, "line": record.lineno, "function": record.funcName},
        }
        if record.exc_info:
            entry["stack_trace"] = self.formatException(record.exc_info)
        elif record.stack_info:
            entry["stack_trace"] = record.stack_info
        request = current_request.get()
        if request is not None:
            entry["requestId"] = request.request_id
            if request.operation:
                entry["operationName"] = request.operation
        self._add_trace(entry, request)
        fields = getattr(record, "fields", None)
        if fields:
            entry.update(fields)
        return json.dumps(entry, ensure_ascii=False, default=str)

    def _add_trace(self, entry: dict[str, Any], request: RequestLog | None) -> None:
        span = trace.get_current_span().get_span_context()
        span_id: str | None
        if span.is_valid:  # inside a span of ours (tracing on): the innermost one
            trace_id, span_id = (
                trace.format_trace_id(span.trace_id),
                trace.format_span_id(span.span_id),
            )
            sampled = span.trace_flags.sampled
        elif request is not None and request.trace_id is not None:
            trace_id, span_id, sampled = request.trace_id, request.span_id, request.sampled
        else:
            return
        if self._trace_prefix is not None:
            entry[TRACE] = self._trace_prefix + trace_id
        if span_id is not None:
            entry[SPAN_ID] = span_id
        entry[TRACE_SAMPLED] = sampled


class ReadableFormatter(logging.Formatter):
    """`12:00:01 INFO timeline.tasks.runs [3f2a… Feed] message`, for a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(request)s %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        request = current_request.get()
        if request is None:
            record.request = ""
        elif request.operation:
            record.request = f" [{request.request_id} {request.operation}]"
        else:
            record.request = f" [{request.request_id}]"
        return super().format(record)


def log_config(*, production: bool, project: str | None, level: str = "INFO") -> dict[str, Any]:
    """For logging.config.dictConfig, and uvicorn's `log_config` (serve.py), which
    applies it in every worker process. uvicorn's loggers lose their own handlers
    and write through ours; the app's (`timeline.*`) log from `level` up, which
    uvicorn's defaults would not (they drop INFO from loggers that are not its own)."""
    formatter: dict[str, Any] = (
        {"()": "observability.logs.CloudLoggingFormatter", "project": project}
        if production
        else {"()": "observability.logs.ReadableFormatter"}
    )
    passthrough = {"handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"app": formatter},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": "app",
                "stream": "ext://sys.stdout",
            }
        },
        "root": {"handlers": ["stdout"], "level": "WARNING"},
        "loggers": {
            "timeline": {**passthrough, "level": level},
            "uvicorn": {**passthrough, "level": "INFO"},
            "uvicorn.error": {**passthrough, "level": "INFO"},
            # One access line per request comes from the app (observability/middleware.py).
            "uvicorn.access": {**passthrough, "level": "WARNING"},
        },
    }
