"""The errors our own code raises on purpose, and the code each carries to clients.

    AppError                     extensions.code
     ├── BadUserInput            BAD_USER_INPUT     malformed or out-of-range arguments
     ├── BadCursor               BAD_CURSOR         a cursor we did not issue for this list
     ├── Unauthenticated         UNAUTHENTICATED    the field needs a signed-in viewer
     ├── Forbidden               FORBIDDEN          the viewer may not act on this
     ├── BadRequest              BAD_REQUEST        (HTTP 400) the request cannot run as
     │                                              sent: several operations and no
     │                                              operationName
     ├── QueryRefused            (HTTP 400, before execution; extensions: rule, limit, measured)
     │    ├── DocumentTooLarge   DOCUMENT_TOO_LARGE the document's bytes or tokens
     │    └── QueryTooComplex    QUERY_TOO_COMPLEX  operations, aliases, directives, depth, cost
     └── Unavailable             UNAVAILABLE        busy right now: retry after
                                                    extensions.retryAfterSeconds
                                                    (the response is HTTP 503)

Anything else that escapes a resolver is a bug: clients see INTERNAL_SERVER_ERROR
and an error id, and the log holds the traceback under the same id. The
translation happens in one place, `schema/errors.py`, which also turns the store's
StoreUnavailable into Unavailable.
"""

from __future__ import annotations

from typing import Any, ClassVar


class AppError(Exception):
    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = extensions


class BadUserInput(AppError):
    code = "BAD_USER_INPUT"


class BadCursor(AppError):
    code = "BAD_CURSOR"


class Unauthenticated(AppError):
    code = "UNAUTHENTICATED"


class Forbidden(AppError):
    code = "FORBIDDEN"


class BadRequest(AppError):
    """The request cannot run as sent; the route answers HTTP 400 (graphql_media.py)."""

    code = "BAD_REQUEST"


class Unavailable(AppError):
    """Nothing is wrong with the request; the server could not serve it now (the
    store, or the image budget). The route answers HTTP 503 with Retry-After."""

    code = "UNAVAILABLE"

    def __init__(
        self, message: str = "The service is busy; try again shortly.", *, retry_after_seconds: int
    ) -> None:
        super().__init__(message, retryAfterSeconds=retry_after_seconds)
        self.retry_after_seconds = retry_after_seconds


class QueryRefused(AppError):
    """A document over one of the limits in schema/query_limits.py, refused before it
    runs. `rule` names the limit, `limit` is its value and `measured` the document's."""

    def __init__(self, message: str, *, rule: str, limit: int, measured: int) -> None:
        super().__init__(message, rule=rule, limit=limit, measured=measured)


class DocumentTooLarge(QueryRefused):
    code = "DOCUMENT_TOO_LARGE"


class QueryTooComplex(QueryRefused):
    code = "QUERY_TOO_COMPLEX"
