"""The one place where errors become what clients see (the GraphQL route calls
`client_error` on every error of every response: parse, validation, execution).

Our own AppErrors keep their message and gain `extensions.code`; the store's
StoreUnavailable (the file is locked by another process, the disk is full) is
UNAVAILABLE with `extensions.retryAfterSeconds`. GraphQL's own
parse and validation errors get the codes Apollo clients know. Anything else is a
bug: the client gets a generic message and an error id, the log gets the
traceback under the same id, and no exception text leaves the server. Without
`suggestions` (production), GraphQL's "Did you mean ...?" hints are cut, so that
guessing at field names teaches an outsider nothing about the schema.
"""

from __future__ import annotations

import logging
import uuid

from graphql import GraphQLError

from errors import AppError, Unavailable
from resolvers.models import StoreUnavailable, TransactionConflict

log = logging.getLogger("timeline.errors")

INTERNAL = "INTERNAL_SERVER_ERROR"
CONTENTION_RETRY_AFTER_SECONDS = 1
_SUGGESTION = " Did you mean "


def client_error(error: GraphQLError, *, suggestions: bool = True) -> GraphQLError:
    original = error.original_error
    if isinstance(original, StoreUnavailable):
        log.warning("store unavailable at %s: %s", error.path, original)
        original = Unavailable(retry_after_seconds=original.retry_after_seconds)
    elif isinstance(original, TransactionConflict):
        # Contention that outlasted run_in_transaction's retries: the same request
        # may well succeed a moment later.
        log.warning("contention outlasted the retries at %s: %s", error.path, original)
        original = Unavailable(retry_after_seconds=CONTENTION_RETRY_AFTER_SECONDS)
    if isinstance(original, AppError):
        return _with_code(error, original.code, original.message, original.extensions)
    if original is None or isinstance(original, GraphQLError):
        # GraphQL's own parse, validation and variable coercion errors.
        message = error.message if suggestions else _without_suggestions(error.message)
        return _with_code(error, _graphql_code(error), message, {})
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


def _without_suggestions(message: str) -> str:
    # graphql-core appends its hint last (pyutils.did_you_mean); strawberry's
    # validation passes no hide_suggestions flag.
    kept, hint, _ = message.rpartition(_SUGGESTION)
    return kept if hint else message


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
