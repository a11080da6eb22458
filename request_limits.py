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
import inspect
import logging
from collections.abc import Awaitable, Coroutine, Generator
from itertools import chain
from typing import Any, cast

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
            message = await _by_deadline(receive(), deadline)
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


async def _by_deadline(receiving: Awaitable[Message], deadline: float) -> Message:
    """`receiving` awaited, or BodyTooSlow once `deadline` has passed. A body
    mostly comes in the packets of its headers: the first step of `receiving`
    then returns it, and no timer is armed for it (the timer was a few percent
    of a small request's work); one is armed only when that step has to wait."""
    if not inspect.iscoroutine(receiving):
        return await _timed(receiving, deadline)
    try:
        waiting = receiving.send(None)
    except StopIteration as arrived:
        return cast(Message, arrived.value)
    return await _timed(_Rest(receiving, waiting), deadline)


async def _timed(receiving: Awaitable[Message], deadline: float) -> Message:
    try:
        async with asyncio.timeout_at(deadline):
            return await receiving
    except TimeoutError:
        raise BodyTooSlow from None


class _Rest:
    """The rest of a coroutine whose first step yielded `waiting`, to await: the
    task's sends and throws (its cancellation at the deadline) go on to the
    coroutine, as `yield from` passes them on."""

    __slots__ = ("coroutine", "waiting")

    def __init__(self, coroutine: Coroutine[Any, Any, Message], waiting: Any) -> None:
        self.coroutine = coroutine
        self.waiting = waiting

    def __await__(self) -> Generator[Any, Any, Message]:
        coroutine, waiting = self.coroutine, self.waiting
        while True:
            try:
                sent = yield waiting
            except BaseException as thrown:  # handed on, as yield from does
                try:
                    waiting = coroutine.throw(thrown)
                except StopIteration as done:
                    return cast(Message, done.value)
            else:
                try:
                    waiting = coroutine.send(sent)
                except StopIteration as done:
                    return cast(Message, done.value)


def refusal(scope: Scope, status: int, message: str, code: str) -> JSONResponse:
    media_type = negotiate(Headers(scope=scope).get("accept")) or JSON
    return error_response(status, message, code, media_type, headers={"Connection": "close"})
