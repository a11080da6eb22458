"""The errors our own code raises on purpose, and the code each carries to clients.

    AppError                     extensions.code
     ├── BadUserInput            BAD_USER_INPUT     malformed or out-of-range arguments
     ├── BadCursor               BAD_CURSOR         a cursor we did not issue for this list
     ├── NotFound                NOT_FOUND          a well-formed id that names nothing
     ├── Unauthenticated         UNAUTHENTICATED    the field needs a signed-in viewer
     ├── Forbidden               FORBIDDEN          the viewer may not act on this
     └── Unavailable             UNAVAILABLE        busy for now: retry after
                                                    extensions.retryAfterSeconds

Anything else that escapes a resolver is a bug: clients see INTERNAL_SERVER_ERROR
and an error id, and the log holds the traceback under the same id. The
translation happens in one place, `schema/errors.py`, which also turns the store's
"not now" errors (contention that outlasted the retries, an overloaded store) into
Unavailable.
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


class NotFound(AppError):
    code = "NOT_FOUND"


class Unauthenticated(AppError):
    code = "UNAUTHENTICATED"


class Forbidden(AppError):
    code = "FORBIDDEN"


class Unavailable(AppError):
    code = "UNAVAILABLE"

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message, retryAfterSeconds=retry_after_seconds)
