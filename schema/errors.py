"""The one place where errors become what clients see (the GraphQL route calls
`client_error` on every error of every response: parse, validation, execution).

Our own AppErrors keep their message and gain `extensions.code`. GraphQL's own
parse and validation errors get the codes Apollo clients know. Anything else is a
bug: the client gets a generic message and an error id, the log gets the
traceback under the same id, and no exception text leaves the server.
"""

from __future__ import annotations

import logging
import uuid

from graphql import GraphQLError

from errors import AppError, Unavailable
from store.errors import StoreUnavailable, TransactionConflict

log = logging.getLogger("timeline.errors")

INTERNAL = "INTERNAL_SERVER_ERROR"
# What a client is told to wait before trying again when the store is busy.
RETRY_AFTER_SECONDS = 1


def client_error(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, (TransactionConflict, StoreUnavailable)):
        # Contention that outlasted run_in_transaction's retries, or a store that
        # said "not now": the request may succeed as it is, a moment later.
        log.warning("store busy at %s: %s", error.path, original)
        original = Unavailable(
            "The service is busy; try again shortly.", retry_after_seconds=RETRY_AFTER_SECONDS
        )
    if isinstance(original, AppError):
        return _with_code(error, original.code, original.message, original.extensions)
    if original is None or isinstance(original, GraphQLError):
        # GraphQL's own parse, validation and variable coercion errors.
        return _with_code(error, _graphql_code(error), error.message, {})
    error_id = uuid.uuid4().hex
    log.error(
        "internal error %s at %s",
        error_id,
        error.path,
        exc_info=(type(original), original, original.__traceback__),
    )
    return GraphQLError(
        "Internal server error.",
        nodes=error.nodes,
        path=error.path,
        extensions={"code": INTERNAL, "errorId": error_id},
    )


def _graphql_code(error: GraphQLError) -> str:
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if error.message.startswith("Variable '$"):
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


def _with_code(
    error: GraphQLError, code: str, message: str, extensions: dict[str, object]
) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={**(error.extensions or {}), **extensions, "code": code},
    )
