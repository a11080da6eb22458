"""Operations: what an operator sees of the running app.

- `logs`: JSON lines in Cloud Logging's format in production, readable ones
  locally; the logging configuration serve.py gives uvicorn;
- `context`: the request id, trace and GraphQL operation every log line of a
  request carries;
- `middleware`: sets that context, echoes X-Request-Id, writes the access line,
  and opens the request's span;
- `tracing` and `traced_store`: OpenTelemetry spans per request, operation and
  store round trip, when TIMELINE_TRACING asks for them;
- its settings (TIMELINE_LOG_LEVEL, TIMELINE_TRACING, TIMELINE_OTLP_ENDPOINT) are in
  settings/observability.py.
"""

from observability.context import current_request, name_operation, note_operation

__all__ = ["current_request", "name_operation", "note_operation"]
