"""What every log line of a request carries, wherever it is written from.

The middleware (observability/middleware.py) sets a `RequestLog` in a context
variable when a request arrives and resets it when the response is sent; any
logger in between (a resolver, error masking, a task handler behind an internal
route) reaches it through the log formatter. asyncio copies context into the
tasks and threads a request starts, so they carry it too.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from opentelemetry import trace


@dataclass
class RequestLog:
    request_id: str
    trace_id: str | None = None  # 32 hex; None: no trace header and no tracing
    span_id: str | None = None  # 16 hex: the caller's span, or the request's own when traced
    sampled: bool = False
    operation: str | None = None  # the GraphQL operation's name, once known


current_request: ContextVar[RequestLog | None] = ContextVar("current_request", default=None)


def note_operation(name: str | None) -> None:
    """Names the GraphQL operation of the request being served (for its log lines)."""
    request = current_request.get()
    if request is not None and name:
        request.operation = name


def name_operation(name: str | None) -> None:
    """Names the GraphQL operation in the request's log lines, and its span
    (the GraphQL route's, when tracing is on)."""
    if not name:
        return
    note_operation(name)
    span = trace.get_current_span()
    span.update_name(f"GraphQL {name}")
    span.set_attribute("graphql.operation.name", name)
