"""The outermost layer of the app: who a request is in the logs, and in traces.

For each HTTP request it
- takes the request id from X-Request-Id when it is a sane token (a proxy's or a
  client's), else makes one, and echoes it in the response's X-Request-Id;
- reads the trace from traceparent or X-Cloud-Trace-Context (trace_headers.py);
- puts both in the request's log context (context.py) for every line logged
  while the request is served;
- with tracing on, runs the request inside a server span that continues the
  caller's trace;
- adds the headers the app gives it to every response (the security headers,
  security_headers.py, which this layer does not import: it is the transport's);
- writes one access line (logger timeline.access): method, path, status,
  latency, which replaces uvicorn's own access log.

Kept cheap, as it runs on every request: one pass over the headers, no parsing
of the query string, one send wrapper for the request id and the security
headers, and the access line's record built only when it is logged, without
logging's walk up the stack for the caller (its source is always _log_access).
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    Tracer,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from observability.context import RequestLog, current_request
from observability.trace_headers import TraceParent, incoming_trace

access_log = logging.getLogger("timeline.access")
log = logging.getLogger("timeline.requests")
Header = tuple[bytes, bytes]
REQUEST_ID_HEADER = b"x-request-id"
_WANTED = {b"x-request-id", b"traceparent", b"x-cloud-trace-context", b"user-agent"}
# What is kept of a caller's request id: a token short enough for a log line,
# with nothing that could forge another line or field.
_SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:@/+=-]{1,128}")


def request_id_from(header: bytes | None) -> str:
    if header is not None and _SANE_REQUEST_ID.fullmatch(header):
        return header.decode("ascii")
    # Unique, not secret (it is echoed to the client): no system call per request.
    # `random` reseeds itself in each forked worker.
    return f"{random.getrandbits(128):032x}"


class RequestObservation:
    def __init__(
        self,
        app: ASGIApp,
        tracer: Tracer | None = None,
        add_headers: Callable[[Iterable[Header]], list[Header]] | None = None,
    ) -> None:
        self.app = app
        self._tracer = tracer
        self._add_headers = add_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {name: value for name, value in scope["headers"] if name in _WANTED}
        request_id = request_id_from(headers.get(REQUEST_ID_HEADER))
        caller = (
            incoming_trace(
                _text(headers.get(b"traceparent")), _text(headers.get(b"x-cloud-trace-context"))
            )
            if b"traceparent" in headers or b"x-cloud-trace-context" in headers
            else None
        )
        entry = RequestLog(request_id)
        if caller is not None:
            entry.trace_id, entry.span_id, entry.sampled = (
                caller.trace_id,
                caller.span_id,
                caller.sampled,
            )
        echoed = (REQUEST_ID_HEADER, request_id.encode("ascii"))
        status = 500  # what the client gets when the app fails before answering
        add_headers = self._add_headers

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers = message.get("headers", ())
                if add_headers is not None:
                    response_headers = add_headers(response_headers)
                message["headers"] = [*response_headers, echoed]
            await send(message)

        token = current_request.set(entry)
        try:
            if self._tracer is None:
                await self.app(scope, receive, send_with_id)
            else:
                with self._tracer.start_as_current_span(
                    f"{scope['method']} {scope['path']}",
                    context=_continued(caller),
                    kind=SpanKind.SERVER,
                    attributes={
                        "http.request.method": scope["method"],
                        "url.path": scope["path"],
                        "timeline.request_id": request_id,
                    },
                ) as span:
                    own = span.get_span_context()
                    entry.trace_id = trace.format_trace_id(own.trace_id)
                    entry.span_id = trace.format_span_id(own.span_id)
                    entry.sampled = own.trace_flags.sampled
                    try:
                        await self.app(scope, receive, send_with_id)
                    finally:
                        _finish(span, scope, status)
        except Exception:
            log.exception("unhandled error in %s %s", scope["method"], scope["path"])
            raise
        finally:
            latency_ms = (time.perf_counter() - started) * 1000
            if access_log.isEnabledFor(logging.INFO):
                _log_access(scope, headers, status, latency_ms)
            current_request.reset(token)


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


def _continued(caller: TraceParent | None) -> Any:
    """The caller's span as the parent of ours, so the trace carries on."""
    if caller is None or caller.span_id is None:
        return None
    parent = SpanContext(
        trace_id=int(caller.trace_id, 16),
        span_id=int(caller.span_id, 16),
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED if caller.sampled else TraceFlags.DEFAULT),
    )
    return trace.set_span_in_context(NonRecordingSpan(parent))


def _finish(span: trace.Span, scope: Scope, status: int) -> None:
    span.set_attribute("http.response.status_code", status)
    route = scope.get("route")
    if route is not None and hasattr(route, "path"):  # the route's template, not the URL
        span.set_attribute("http.route", route.path)
        span.update_name(f"{scope['method']} {route.path}")
    if status >= 500:
        span.set_status(Status(StatusCode.ERROR))


def _log_access(scope: Scope, headers: dict[bytes, bytes], status: int, latency_ms: float) -> None:
    client = scope.get("client")
    request: dict[str, Any] = {
        "requestMethod": scope["method"],
        "requestUrl": scope["path"],
        "status": status,
        "latency": f"{latency_ms / 1000:.6f}s",
        "protocol": f"HTTP/{scope.get('http_version', '1.1')}",
    }
    if client:
        request["remoteIp"] = client[0]
    agent = headers.get(b"user-agent")
    if agent is not None:
        request["userAgent"] = agent.decode("latin-1")
    level = logging.WARNING if status >= 500 else logging.INFO
    # What access_log.log(level, ...) does, less findCaller's walk up the stack.
    record = access_log.makeRecord(
        access_log.name,
        level,
        _ACCESS_SOURCE.co_filename,
        _ACCESS_SOURCE.co_firstlineno,
        "%s %s %d %.1f ms",
        (scope["method"], scope["path"], status, latency_ms),
        None,
        "_log_access",
        {"fields": {"httpRequest": request, "latencyMs": round(latency_ms, 3)}},
    )
    access_log.handle(record)


_ACCESS_SOURCE = _log_access.__code__
