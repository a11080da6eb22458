"""What HTTP caches may keep of a GraphQL answer (Cache-Control, Vary, ETag, 304).

A query sent by GET (as text, or as an APQ hash so that the URL stays short) is
`public, max-age=30` when three things hold, and `private, no-store` otherwise:

1. The request carries no Authorization header. Without a token the viewer is
   nobody, and nothing else about the request (cookies, address) reaches a
   resolver, so every anonymous caller gets the same answer: one a shared cache
   may hand to anyone. A signed-in request is never stored, even where its
   answer happens to be public: Vary alone is not trusted to keep one user's
   answer from another behind every CDN.
2. Every root field of the operation is in PUBLIC_ROOT_FIELDS, the fields whose
   answer depends only on their arguments: a user's profile and photos, everyone's
   photos, `node` (a photo and its comments; a notification answers only its
   recipient, and nobody is not one). An allowlist rather than a per-field hint
   collected while resolving: it is decided from the document alone, costs nothing
   during execution, and a root field added later is private until someone says
   otherwise (it fails closed). `viewer` and admin fields are never on it.
3. The answer has no errors: a NOT_FOUND or an UNAVAILABLE is not worth keeping.

Every GET answer says `Vary: Authorization, Accept` (the media type is negotiated)
and, when it is 200, carries a strong ETag of its body; `If-None-Match` with it
is answered 304 without the body. POST answers are `no-store`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
)
from starlette.responses import Response

PUBLIC_MAX_AGE_SECONDS = 30
PUBLIC = f"public, max-age={PUBLIC_MAX_AGE_SECONDS}"
PRIVATE = "private, no-store"
NO_STORE = "no-store"
VARY = "Authorization, Accept"
PUBLIC_ROOT_FIELDS = frozenset({"__typename", "node", "nodes", "user", "photos"})


def get_cache_control(query: str | None, operation_name: str | None, *, signed_in: bool) -> str:
    """Cache-Control for an answer without errors to a GET request."""
    if signed_in or query is None:
        return PRIVATE
    fields = root_fields(query, operation_name)
    if fields is None or not fields or not fields <= PUBLIC_ROOT_FIELDS:
        return PRIVATE
    return PUBLIC


def root_fields(query: str, operation_name: str | None) -> frozenset[str] | None:
    """The root fields a query operation selects (fragments followed, @skip and
    @include ignored: a field that might be asked for counts), or None when the
    operation is not a query. Called only for a document that has just run."""
    try:
        document = parse(query, no_location=True)
    except GraphQLSyntaxError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [
        operation
        for operation in operations
        if operation_name is None or (operation.name and operation.name.value == operation_name)
    ]
    if len(chosen) != 1 or chosen[0].operation != OperationType.QUERY:
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return frozenset(_field_names(chosen[0].selection_set, fragments, set()))


def _field_names(
    selections: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    followed: set[str],
) -> Iterator[str]:
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            yield selection.name.value
        elif isinstance(selection, InlineFragmentNode):
            yield from _field_names(selection.selection_set, fragments, followed)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in followed:
            followed.add(selection.name.value)
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                yield from _field_names(fragment.selection_set, fragments, followed)


def with_cache_headers(
    response: Response, *, method: str, cache_control: str, if_none_match: str | None
) -> Response:
    """The response as caches should see it; a 304 in its place when the client
    already holds this body."""
    if method != "GET":
        response.headers["Cache-Control"] = NO_STORE
        return response
    response.headers["Vary"] = VARY
    if "cache-control" not in response.headers:  # a persisted-query miss sets its own
        response.headers["Cache-Control"] = (
            cache_control if response.status_code == 200 else PRIVATE
        )
    body = getattr(response, "body", None)  # a streamed answer has none to hash
    if response.status_code != 200 or not isinstance(body, bytes):
        return response
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    response.headers["ETag"] = etag
    if if_none_match is not None and _holds(if_none_match, etag):
        kept = {name: response.headers[name] for name in ("ETag", "Cache-Control", "Vary")}
        return Response(status_code=304, headers=kept)
    return response


def _holds(if_none_match: str, etag: str) -> bool:
    # RFC 9110: If-None-Match compares weakly, so a W/ prefix does not matter.
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags
