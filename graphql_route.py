"""The GraphQL route: strawberry's ASGI view with the checks around it.

Before strawberry reads a byte: the media type of the answer from the Accept
header (406 when neither GraphQL type is acceptable, graphql_media.py), the
declared size of an upload, CSRF for multipart requests and the bearer token
(graphql_guards.py). While the body streams: the size limit again, and the
request's shape (`graphql_request`). Before execution: an APQ hash or a trusted
document becomes the document to run (persisted_queries.py), and its operation
names the request's log lines and span (observability/). A query the route has
run before takes the direct path to its compiled plan (graphql_direct.py), past
strawberry's view and pipeline, to the same answer. After execution: every
error through `schema.errors.client_error`, the status the media type
calls for, 503 with Retry-After when an error says the server is busy
(UNAVAILABLE), and the cache headers (http_caching.py). Whatever is refused is
answered with a GraphQL error body in the negotiated media type, never plain text.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from opentelemetry.trace import Tracer
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult

from auth.viewer import TokenVerifier
from graphiql import GraphiQLAssets, graphiql_response
from graphql_context import Contexts
from graphql_direct import DirectPath, Exchange
from graphql_guards import (
    BodyTooLarge,
    IndexedHeaders,
    authenticate,
    body_limit,
    limit_body,
    too_large,
    upload_refusal,
)
from graphql_media import (
    JSON,
    RequestRefused,
    bad_request_response,
    encode,
    error_response,
    graphql_response,
    negotiate,
    refused_response,
)
from graphql_request import (
    JSON_TYPES,
    decode_json,
    decode_request,
    leading_operation_name,
    place_files,
)
from http_caching import get_cache_control, with_cache_headers
from observability import name_operation
from persisted_queries import PersistedQueries
from resolvers.context import RequestContext
from schema import TimelineSchema, build_admin_schema, build_schema
from schema.errors import client_error
from settings import Settings


class GraphQLRoute(GraphQL[RequestContext, None]):
    def __init__(
        self,
        settings: Settings,
        verifier: TokenVerifier,
        contexts: Contexts,
        *,
        admin: bool = False,
        graphiql: GraphiQLAssets | None = None,
        tracer: Tracer | None = None,
        direct: bool = True,
    ) -> None:
        """`contexts`: what resolvers receive (the admin schema's with its `task_admin`).
        `admin`: serve the admin schema (schema/admin.py), without GraphiQL.
        `graphiql`: its files, when installed (graphiql/assets.py).
        `tracer`: a span per operation (tracing on, observability/tracing.py).
        `direct`: known queries take the direct path (graphql_direct.py); off, every
        request takes strawberry's (the differential test compares the two)."""
        build = build_admin_schema if admin else build_schema
        ide = settings.graphiql and not settings.is_production and not admin
        super().__init__(
            build(settings.query_limits, introspection=not settings.is_production),
            graphql_ide="graphiql" if ide else None,
            allow_queries_via_get=True,
            multipart_uploads_enabled=True,
        )
        self._contexts = contexts
        self._verifier = verifier
        self._suggestions = not settings.is_production
        self._max_upload = settings.media.max_upload_bytes
        self._graphiql = graphiql
        self._tracer = tracer
        self._persisted = PersistedQueries.from_settings(
            contexts.store, settings.persisted_queries, contexts.clock
        )
        schema = cast(TimelineSchema, self.schema)
        # Streamed answers (SSE, multipart) are the view's alone; the app serves none.
        reproducible = not self._stream_transport_map and DirectPath.reproduces(schema)
        self._direct = (
            DirectPath(
                schema, self._persisted, self._contexts, max_cost=settings.query_limits.max_cost
            )
            if direct and reproducible and not admin  # (a handful of calls: not worth a path)
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        headers = IndexedHeaders(scope)
        # As strawberry's own __call__, plus the body limit and closing the uploads.
        limit = body_limit(headers, self._max_upload)
        request = Request(scope, receive=limit_body(receive, limit))
        media_type = negotiate(headers.get("accept"))
        if media_type is None and not self.should_render_graphql_ide(
            self.request_adapter_class(request)
        ):
            message = "Accept application/graphql-response+json or application/json."
            await error_response(406, message, "NOT_ACCEPTABLE", JSON)(scope, receive, send)
            return
        exchange = Exchange(media_type or JSON)
        request.state.graphql = exchange
        try:
            response = await self._respond(request, headers)
        except RequestRefused as refused:
            response = refused_response(refused, exchange.media_type)
        except HTTPException as error:
            response = bad_request_response(
                error.status_code, error.reason, request.method, exchange.media_type
            )
        except StarletteHTTPException as error:  # the form parser's
            response = bad_request_response(
                error.status_code, error.detail, request.method, exchange.media_type
            )
        except BodyTooLarge:
            response = refused_response(too_large(headers, self._max_upload), exchange.media_type)
        finally:
            await request.close()  # uploaded files are temporary files: delete them now
        response = with_cache_headers(
            response,
            method=request.method,
            cache_control=exchange.cache_control,
            if_none_match=headers.get("if-none-match"),
        )
        await response(scope, receive, send)

    async def _respond(self, request: Request, headers: Headers) -> Response:
        refusal = upload_refusal(headers, self._max_upload)
        if refusal is not None:
            raise refusal
        viewer = await authenticate(self._verifier, headers)
        if isinstance(viewer, RequestRefused):
            raise viewer
        request.state.viewer = viewer
        if self._tracer is None:
            return await self._run_either_way(request)
        # Named once the document is known (an APQ hash may stand for it).
        with self._tracer.start_as_current_span("GraphQL operation"):
            return await self._run_either_way(request)

    async def _run_either_way(self, request: Request) -> Response:
        if self._direct is not None:
            result = await self._direct.run(request, request.state.graphql)
            if result is not None:  # answered as strawberry's view answers
                body = await self.process_result(request, result)
                return graphql_response(body, request.state.graphql.media_type)
        return await self.run(request)

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # Only a page load asks for HTML; an APQ GET (no `query`, an `extensions`)
        # from a client whose Accept is */* is a GraphQL request.
        return (
            request.method == "GET"
            and request.query_params.get("query") is None
            and request.query_params.get("extensions") is None
            and "text/html" in request.headers.get("accept", "")
        )

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        # create_response writes the body in the negotiated type.
        sub_response.media_type = request.state.graphql.media_type
        return sub_response

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if result.errors:
            result.errors = [
                client_error(error, suggestions=self._suggestions) for error in result.errors
            ]
        return await super().process_result(request, result)

    async def render_graphql_ide(self, request: Request) -> Response:
        # Our page, whose files the app serves, instead of strawberry's from unpkg.com.
        return graphiql_response(self._graphiql)

    def decode_json(self, data: str | bytes) -> dict[str, Any]:
        return decode_request(data)

    def encode_json(self, data: object) -> str | bytes:
        return encode(data)

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        if request.method == "POST":
            media_type, _ = parse_content_type(request.content_type or "")
            if media_type not in JSON_TYPES:
                raise HTTPException(
                    415,
                    "Send the operation as application/json "
                    "(or multipart/form-data to upload a file).",
                )
        data = await super().parse_http_body(request)
        assert not isinstance(data, list)  # decode_json refuses batches
        return data

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> dict[str, Any]:
        try:
            form = await request.get_form_data()
        except ValueError:
            raise HTTPException(400, "The multipart body cannot be parsed.") from None
        operations, files_map = (form.form.get(name, "{}") for name in ("operations", "map"))
        if not isinstance(operations, str | bytes) or not isinstance(files_map, str | bytes):
            raise HTTPException(400, "`operations` and `map` must be form fields, not files.")
        return place_files(decode_request(operations), decode_json(files_map), form.files)

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: RequestContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        exchange: Exchange = request.state.graphql
        resolved = exchange.resolved
        if resolved is None:  # (the direct path resolves it before passing a request on)
            resolved = await self._persisted.resolve(request_data.query, request_data.extensions)
        request_data = replace(request_data, query=resolved.query)
        name_operation(request_data.operation_name or leading_operation_name(resolved.query))
        try:
            result = await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException as error:
            if isinstance(error.__cause__, InvalidOperationTypeError):
                raise HTTPException(
                    405, "A GET request may only read; send mutations by POST."
                ) from error
            raise
        started = result.data is not None or any(e.path is not None for e in result.errors or [])
        if started and resolved.register_as is not None and resolved.query is not None:
            await self._persisted.register(resolved.register_as, resolved.query)
        if request.method == "GET" and not result.errors:
            exchange.cache_control = get_cache_control(
                resolved.query,
                request_data.operation_name,
                signed_in="authorization" in request.headers,
            )
        if self._direct is not None:
            self._direct.learn(resolved.query, request_data.operation_name)
        return result

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        assert isinstance(response_data, dict)  # decode_json refuses batches
        return graphql_response(response_data, sub_response.media_type or JSON)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        return self._contexts(request.scope.get("state", {}).get("viewer"))
