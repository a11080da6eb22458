"""Limits on how big a request's headers are and how slowly its body may come, as an
ASGI middleware in front of every route.

h11 bounds headers only while they are incomplete (a request whose headers arrive
in one packet skips that check), and uvicorn bounds idle connections but not a
body that trickles in a byte at a time: each such request would hold a connection
and a worker slot for as long as its sender likes. Here:
- headers over `max_header_bytes` in all are answered 431;
- the whole body must have arrived within `body_seconds` of the request's start,
  or the request is answered 408 (if nothing was sent yet) and dropped.
Both answers are GraphQL error bodies in the media type the request accepts, as
every refusal of this API is (graphql_media.py).
"""

from __future__ import annotations

import asyncio
import logging
from itertools import chain

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphql_media import JSON, error_response, negotiate

log = logging.getLogger("timeline.request_limits")


class BodyTooSlow(Exception):
    """The request body had not arrived by the deadline."""


class RequestLimits:
    def __init__(self, app: ASGIApp, *, max_header_bytes: int, body_seconds: float) -> None:
        self._app = app
        self._max_header_bytes = max_header_bytes
        self._body_seconds = body_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = scope["headers"]
        # Each line is `name: value\r\n`; summed in C, as this runs on every request.
        header_bytes = sum(map(len, chain.from_iterable(headers))) + 4 * len(headers)
        if header_bytes > self._max_header_bytes:
            message = f"The request's headers are over {self._max_header_bytes} bytes."
            await refusal(scope, 431, message, "HEADERS_TOO_LARGE")(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self._body_seconds
        body_complete = False
        response_started = False

        async def receive_by_deadline() -> Message:
            nonlocal body_complete
            if body_complete:  # afterwards only http.disconnect comes, whenever it does
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise BodyTooSlow from None
            body_complete = message["type"] != "http.request" or not message.get("more_body")
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._app(scope, receive_by_deadline, tracking_send)
        except BodyTooSlow:
            log.warning("dropped a request whose body took over %ss", self._body_seconds)
            if not response_started:
                message = f"The request body did not arrive within {self._body_seconds:g} seconds."
                await refusal(scope, 408, message, "REQUEST_TIMEOUT")(scope, receive, send)


def refusal(scope: Scope, status: int, message: str, code: str) -> JSONResponse:
    media_type = negotiate(Headers(scope=scope).get("accept")) or JSON
    return error_response(status, message, code, media_type, headers={"Connection": "close"})
