"""The trace a request belongs to, as Google's front ends and W3C clients say it.

    traceparent: 00-<trace id, 32 hex>-<parent span id, 16 hex>-<flags, 2 hex>
    X-Cloud-Trace-Context: <trace id, 32 hex>/<span id, decimal>;o=<1: sampled>

App Engine and Cloud Run send both (and they agree); traceparent wins when both
parse. Anything malformed is ignored: a request without a usable header gets no
trace id in its log lines (or a new trace when tracing is on), never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")
_CLOUD_TRACE = re.compile(r"([0-9a-fA-F]{32})(?:/(\d{1,20}))?(?:;o=(\d))?")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16
_MAX_SPAN = 2**64 - 1


@dataclass(frozen=True)
class TraceParent:
    trace_id: str  # 32 lowercase hex
    span_id: str | None  # 16 lowercase hex: the caller's span
    sampled: bool


def parse_traceparent(value: str) -> TraceParent | None:
    match = _TRACEPARENT.fullmatch(value.strip())
    if match is None:
        return None
    version, trace_id, span_id, flags, rest = match.groups()
    # Version ff is forbidden; version 00 has nothing after the flags.
    if version == "ff" or (version == "00" and rest) or trace_id == _ZERO_TRACE:
        return None
    if span_id == _ZERO_SPAN:
        return None
    return TraceParent(trace_id, span_id, sampled=bool(int(flags, 16) & 1))


def parse_cloud_trace_context(value: str) -> TraceParent | None:
    match = _CLOUD_TRACE.fullmatch(value.strip())
    if match is None:
        return None
    trace_id, span, options = match.groups()
    trace_id = trace_id.lower()
    if trace_id == _ZERO_TRACE:
        return None
    span_id = None
    if span is not None and 0 < int(span) <= _MAX_SPAN:
        span_id = format(int(span), "016x")
    return TraceParent(trace_id, span_id, sampled=options == "1")


def incoming_trace(traceparent: str | None, cloud_trace: str | None) -> TraceParent | None:
    """The request's trace from its headers: traceparent first, then Google's own."""
    if traceparent:
        parsed = parse_traceparent(traceparent)
        if parsed is not None:
            return parsed
    if cloud_trace:
        return parse_cloud_trace_context(cloud_trace)
    return None
